//! `null://`: counts the rows and discards them. It measures the pipeline
//! alone — generation, the buffer, batches — with no writing behind it, for
//! benchmarks and supervision experiments. Nothing survives the process, so
//! there is nothing to resume; a failed attempt is simply redone.

use std::sync::Arc;

use datagen_actors::{BoxError, Sink};

use super::checkpoint::Committed;
use super::options::{AnyKey, Options};
use super::{BlockEncoder, Failure, Kind, OpenArgs, Target, TargetSink};
use crate::progress::Progress;
use crate::schema::Schema;
use crate::shard::Shard;
use crate::url::{Url, UrlError};
use crate::value::Block;

/// `null://`.
pub struct NullKind;

/// The kind of target that discards rows.
pub static NULL: NullKind = NullKind;

impl Kind for NullKind {
    fn schemes(&self) -> &'static [&'static str] {
        &["null"]
    }

    fn usage(&self) -> &'static [&'static str] {
        &["null://"]
    }

    fn keys(&self) -> &'static [&'static dyn AnyKey] {
        &[]
    }

    fn parse(
        &self,
        url: &Url<'_>,
        _: &mut Options<'_>,
        _: Shard,
    ) -> Result<Arc<dyn Target>, UrlError> {
        match url.rest {
            "" => Ok(Arc::new(NullTarget)),
            other => Err(UrlError::BadOption(format!(
                "null://{other} (null:// takes nothing after the scheme)"
            ))),
        }
    }
}

/// Nowhere.
#[derive(Debug, Clone, Copy)]
pub struct NullTarget;

impl std::fmt::Display for NullTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("null://")
    }
}

impl Target for NullTarget {
    fn options(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    fn resumable(&self) -> bool {
        false
    }

    fn open(&self, args: &OpenArgs) -> Result<Box<dyn TargetSink>, Failure> {
        Ok(Box::new(NullSink {
            progress: args.progress.clone(),
            committed: Committed::default(),
        }))
    }

    fn discard(&self, _: &Schema) {}
}

/// Counts rows as committed the moment they arrive.
pub struct NullSink {
    progress: Arc<Progress>,
    committed: Committed,
}

impl Sink for NullSink {
    type Chunk = Block;

    fn write(&mut self, batch: &mut Vec<Block>) -> Result<(), BoxError> {
        for block in batch.iter() {
            self.progress.add(block.table, block.len() as u64);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl TargetSink for NullSink {
    fn committed(&self) -> &Committed {
        &self.committed
    }

    fn encoder(&self) -> Option<Arc<dyn BlockEncoder>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::registry;

    #[test]
    fn only_the_bare_scheme_is_a_null_target() {
        let env = std::collections::HashMap::new();
        let mut options = Options::new(&[], &env);
        let target = registry::parse("null://", &mut options, Shard::WHOLE).unwrap();
        assert_eq!(target.to_string(), "null://");
        assert!(!target.resumable() && target.restartable());
        assert!(registry::parse("null://x", &mut options, Shard::WHOLE).is_err());
    }
}
