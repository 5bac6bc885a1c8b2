//! How the Supervisor handles a failure: what it restarts ([`Strategy`]),
//! how often and how soon ([`RestartPolicy`]), and what it records
//! ([`Restarts`], [`Event`]).

use std::time::{Duration, Instant};

use crate::message::Origin;

/// What is restarted when a part fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Strategy {
    /// The failed part alone: a unit generated again, a Target replaced.
    #[default]
    OneForOne,
    /// Every part, from the sink's checkpoint.
    OneForAll,
    /// The failed part and the parts after it (workers → Source → buffer
    /// → Target).
    RestForOne,
}

impl Strategy {
    /// Every strategy, by name.
    pub const ALL: [(&'static str, Strategy); 3] = [
        ("one_for_one", Strategy::OneForOne),
        ("one_for_all", Strategy::OneForAll),
        ("rest_for_one", Strategy::RestForOne),
    ];

    /// Its name in settings.
    pub fn name(self) -> &'static str {
        Strategy::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("one_for_one", |(n, _)| n)
    }

    /// The strategy called `name`.
    pub fn parse(name: &str) -> Option<Strategy> {
        Strategy::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }
}

/// When the Supervisor restarts a failed part, and when it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed within `window`; 0 never restarts.
    pub max_restarts: u32,
    /// The sliding window restarts are counted in.
    pub window: Duration,
    /// Pause before a restart; doubled for each restart in a row that
    /// followed no progress (the failed part got nothing through since
    /// the last failure), up to `max_backoff`.
    pub backoff: Duration,
    /// Longest pause.
    pub max_backoff: Duration,
    /// What is restarted.
    pub strategy: Strategy,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            max_restarts: 3,
            window: Duration::from_secs(60),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            strategy: Strategy::OneForOne,
        }
    }
}

impl RestartPolicy {
    /// Whether a failure at `now` may be restarted, given the restarts
    /// made at `recent`, and the pause before it: `streak` counts the
    /// restarts in a row after which nothing got through (reset when the
    /// failed part made progress). `recent` keeps only the restarts
    /// within the window.
    pub fn admit(
        &self,
        recent: &mut Vec<Instant>,
        now: Instant,
        streak: &mut u32,
        progressed: bool,
    ) -> Option<Duration> {
        recent.retain(|t| now.saturating_duration_since(*t) < self.window);
        if recent.len() as u32 >= self.max_restarts {
            return None;
        }
        if progressed {
            *streak = 0;
        }
        let pause = self
            .backoff
            .saturating_mul(1 << (*streak).min(16))
            .min(self.max_backoff);
        *streak += 1;
        recent.push(now);
        Some(pause)
    }
}

/// What the Supervisor did about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The unit was generated again by a fresh generator.
    RetriedUnit,
    /// The Target was replaced alone.
    RestartedTarget,
    /// Every part was built again.
    RestartedAll,
    /// The run ended with this failure.
    GaveUp,
}

impl Action {
    /// How it reads in a summary.
    pub fn describe(self) -> &'static str {
        match self {
            Action::RetriedUnit => "unit generated again",
            Action::RestartedTarget => "target restarted alone",
            Action::RestartedAll => "every part restarted",
            Action::GaveUp => "gave up",
        }
    }
}

/// One failure the Supervisor handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When, since the run started.
    pub at: Duration,
    /// Which part failed.
    pub origin: Origin,
    /// Why, on one line.
    pub cause: String,
    /// Whether it was a panic.
    pub panic: bool,
    /// What was done.
    pub action: Action,
}

/// Restarts of a supervised run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restarts {
    /// After the Source failed, or a generator worker (its unit generated
    /// again, or everything restarted).
    pub source: u32,
    /// After the Target (or its sink) failed.
    pub target: u32,
    /// After the buffer or the Supervisor itself went away.
    pub other: u32,
    /// Time lost: from each failure to the part running again (the pause,
    /// the wait for the old part to end, building the new one).
    pub lost: Duration,
    /// Why each restart happened, in order.
    pub causes: Vec<String>,
    /// Every failure handled, with what was done, in order.
    pub events: Vec<Event>,
}

impl Restarts {
    /// Restarts of every kind.
    pub fn total(&self) -> u32 {
        self.source + self.target + self.other
    }
}

/// A supervised run that ended.
#[derive(Debug)]
pub struct Supervised<T> {
    /// The last attempt's outcome.
    pub result: T,
    /// What was restarted on the way.
    pub restarts: Restarts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_counts_restarts_in_its_window_and_doubles_the_pause() {
        let policy = RestartPolicy {
            max_restarts: 3,
            window: Duration::from_secs(10),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            strategy: Strategy::OneForOne,
        };
        // A mock clock: instants from a fixed origin.
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let (mut recent, mut streak) = (Vec::new(), 0);
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(
            policy.admit(&mut recent, at(0), &mut streak, false),
            ms(100)
        );
        assert_eq!(
            policy.admit(&mut recent, at(1), &mut streak, false),
            ms(200)
        );
        // Capped at max_backoff.
        assert_eq!(
            policy.admit(&mut recent, at(2), &mut streak, false),
            ms(300)
        );
        // A fourth within the window: give up.
        assert_eq!(policy.admit(&mut recent, at(3), &mut streak, false), None);
        // Once the first has left the window, one more is allowed.
        assert_eq!(
            policy.admit(&mut recent, at(10), &mut streak, false),
            ms(300)
        );
        assert_eq!(recent.len(), 3);
        // Progress since the last failure: the pause starts over.
        assert_eq!(
            policy.admit(&mut recent, at(30), &mut streak, true),
            ms(100)
        );
        assert_eq!(
            policy.admit(&mut recent, at(31), &mut streak, true),
            ms(100)
        );
        assert_eq!(
            policy.admit(&mut recent, at(32), &mut streak, false),
            ms(200)
        );
        // Never restarting.
        let never = RestartPolicy {
            max_restarts: 0,
            ..policy
        };
        assert_eq!(never.admit(&mut Vec::new(), at(0), &mut 0, false), None);
    }

    #[test]
    fn strategies_have_names() {
        for (name, s) in Strategy::ALL {
            assert_eq!(Strategy::parse(name), Some(s));
            assert_eq!(s.name(), name);
        }
        assert_eq!(Strategy::parse("one_for_some"), None);
    }
}
