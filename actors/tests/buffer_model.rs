//! Model-based property test of the buffer's state machine.
//!
//! The model is deliberately naive: it moves single rows between `VecDeque`s
//! and knows nothing about chunks or splitting. For every random sequence of
//! pushes, pulls and the end of the source, the real [`BufferCore`] must
//! produce exactly the model's answers, and the protocol's invariants must
//! hold after every step.

use std::collections::VecDeque;

use datagen_actors::{BufferCore, BufferEvent, BufferState, Pulled};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Push chunks of these sizes.
    Push(Vec<usize>),
    /// Pull a batch of this size.
    Pull(usize),
    /// The source finishes.
    Finish,
    /// A lingering pull's time is up.
    Flush,
}

/// What a request got, flattened to rows.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Acked(u32),
    Full(u32, Vec<u64>),
    Remainder(u32, Vec<u64>),
    Partial(u32, Vec<u64>),
    End(u32),
    Rejected(u32),
}

struct Model {
    capacity: usize,
    buffered: VecDeque<u64>,
    pushes: VecDeque<(VecDeque<u64>, u32)>,
    pulls: VecDeque<(usize, u32)>,
    finished: bool,
    closed: bool,
}

impl Model {
    fn settle(&mut self, out: &mut Vec<Answer>) {
        loop {
            let mut moved = false;
            while let Some((rows, token)) = self.pushes.front_mut() {
                while self.buffered.len() < self.capacity {
                    match rows.pop_front() {
                        Some(row) => {
                            self.buffered.push_back(row);
                            moved = true;
                        }
                        None => break,
                    }
                }
                if rows.is_empty() {
                    out.push(Answer::Acked(*token));
                    self.pushes.pop_front();
                    moved = true;
                } else {
                    break;
                }
            }
            while let Some(&(max, token)) = self.pulls.front() {
                if self.buffered.len() >= max {
                    out.push(Answer::Full(token, self.buffered.drain(..max).collect()));
                } else if self.closed {
                    out.push(Answer::End(token));
                } else if self.finished && self.pushes.is_empty() {
                    if self.buffered.is_empty() {
                        self.closed = true;
                        out.push(Answer::End(token));
                    } else {
                        out.push(Answer::Remainder(token, self.buffered.drain(..).collect()));
                    }
                } else {
                    break;
                }
                self.pulls.pop_front();
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }
}

fn flatten(events: Vec<BufferEvent<u32, Vec<u64>>>) -> Vec<Answer> {
    events
        .into_iter()
        .map(|event| match event {
            BufferEvent::Acked(t, Ok(())) => Answer::Acked(t),
            BufferEvent::Acked(t, Err(_)) | BufferEvent::Pulled(t, Err(_)) => Answer::Rejected(t),
            BufferEvent::Pulled(t, Ok(Pulled::Full(b))) => Answer::Full(t, b.concat()),
            BufferEvent::Pulled(t, Ok(Pulled::Remainder(b))) => Answer::Remainder(t, b.concat()),
            BufferEvent::Pulled(t, Ok(Pulled::Partial(b))) => Answer::Partial(t, b.concat()),
            BufferEvent::Pulled(t, Ok(Pulled::End)) => Answer::End(t),
        })
        .collect()
}

fn ops(capacity: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => prop::collection::vec(0..=2 * capacity, 1..4).prop_map(Op::Push),
        4 => (1..=capacity).prop_map(Op::Pull),
        1 => Just(Op::Finish),
        2 => Just(Op::Flush),
    ];
    prop::collection::vec(op, 1..60)
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Op>)> {
    (1usize..40).prop_flat_map(|capacity| (Just(capacity), ops(capacity)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn core_matches_model((capacity, ops) in scenario()) {
        let mut core: BufferCore<Vec<u64>, u32> = BufferCore::new(capacity);
        let mut model = Model {
            capacity,
            buffered: VecDeque::new(),
            pushes: VecDeque::new(),
            pulls: VecDeque::new(),
            finished: false,
            closed: false,
        };
        let mut next_row = 0u64;
        let mut pushed: Vec<u64> = Vec::new();
        let mut delivered: Vec<u64> = Vec::new();
        let mut token = 0u32;

        for op in ops {
            token += 1;
            let mut events = Vec::new();
            let mut expected = Vec::new();
            match op {
                Op::Push(sizes) => {
                    let chunks: Vec<Vec<u64>> = sizes
                        .iter()
                        .map(|&n| {
                            let chunk: Vec<u64> = (next_row..next_row + n as u64).collect();
                            next_row += n as u64;
                            chunk
                        })
                        .collect();
                    let rows: VecDeque<u64> = chunks.concat().into();
                    if model.finished {
                        // Rows offered after the end are rejected, never stored.
                        next_row -= rows.len() as u64;
                        expected.push(Answer::Rejected(token));
                    } else {
                        pushed.extend(rows.iter().copied());
                        model.pushes.push_back((rows, token));
                        model.settle(&mut expected);
                    }
                    core.push(chunks, token, &mut events);
                }
                Op::Pull(max) => {
                    core.pull(max, token, &mut events);
                    model.pulls.push_back((max, token));
                    model.settle(&mut expected);
                }
                Op::Flush => {
                    core.flush(&mut events);
                    // The first waiting pull takes what there is, while
                    // the source runs and rows are buffered.
                    if !model.finished && !model.buffered.is_empty() {
                        if let Some((max, t)) = model.pulls.pop_front() {
                            let n = max.min(model.buffered.len());
                            expected.push(Answer::Partial(t, model.buffered.drain(..n).collect()));
                            model.settle(&mut expected);
                        }
                    }
                }
                Op::Finish => {
                    core.finish(&mut events);
                    model.finished = true;
                    model.settle(&mut expected);
                }
            }
            let answers = flatten(events);
            prop_assert_eq!(&answers, &expected);

            for answer in &answers {
                match answer {
                    Answer::Full(_, rows) => delivered.extend(rows),
                    Answer::Partial(_, rows) => {
                        prop_assert!(!model.finished && !rows.is_empty());
                        delivered.extend(rows);
                    }
                    Answer::Remainder(_, rows) => {
                        prop_assert!(model.finished, "a partial batch before the source finished");
                        delivered.extend(rows);
                    }
                    _ => {}
                }
            }
            let status = core.status();
            prop_assert!(status.rows <= capacity, "{} rows buffered, capacity {}", status.rows, capacity);
            prop_assert!(status.peak_rows <= capacity);
            prop_assert_eq!(status.rows, model.buffered.len());
            let expected_state = match (model.finished, model.closed) {
                (_, true) => BufferState::Closed,
                (true, false) => BufferState::SourceFinished,
                _ => BufferState::Normal,
            };
            prop_assert_eq!(status.state, expected_state);
            // Everything delivered is exactly the pushed rows, in order, once.
            prop_assert_eq!(&delivered[..], &pushed[..delivered.len()]);
        }

        // Draining after the end delivers the rest and then the end marker.
        let mut events = Vec::new();
        core.finish(&mut events);
        let mut drained = 0;
        while core.status().state != BufferState::Closed {
            token += 1;
            core.pull(capacity, token, &mut events);
            drained += 1;
            prop_assert!(drained <= pushed.len() + 2, "the buffer never closed");
        }
        for answer in flatten(events) {
            if let Answer::Full(_, rows) | Answer::Remainder(_, rows) = answer {
                delivered.extend(rows);
            }
        }
        prop_assert_eq!(delivered, pushed);
    }
}

#[test]
fn full_batches_only_until_the_source_finishes() {
    let mut core: BufferCore<Vec<u64>, u32> = BufferCore::new(10);
    let mut events = Vec::new();
    core.push(vec![vec![1, 2, 3]], 1, &mut events);
    core.pull(5, 2, &mut events);
    assert_eq!(flatten(std::mem::take(&mut events)), vec![Answer::Acked(1)]);
    core.finish(&mut events);
    assert_eq!(
        flatten(std::mem::take(&mut events)),
        vec![Answer::Remainder(2, vec![1, 2, 3])]
    );
    assert_eq!(core.status().state, BufferState::SourceFinished);
    core.pull(5, 3, &mut events);
    assert_eq!(flatten(events), vec![Answer::End(3)]);
    assert_eq!(core.status().state, BufferState::Closed);
}

#[test]
fn a_chunk_larger_than_the_buffer_is_admitted_piecewise() {
    let mut core: BufferCore<Vec<u64>, u32> = BufferCore::new(4);
    let mut events = Vec::new();
    core.push(vec![(0..10).collect()], 1, &mut events);
    assert!(events.is_empty(), "the ack must wait until all rows are in");
    assert_eq!(core.status().rows, 4);
    core.pull(4, 2, &mut events);
    core.pull(4, 3, &mut events);
    let answers = flatten(std::mem::take(&mut events));
    // After the second pull the last two rows fit, so the push is acked.
    let expected = vec![
        Answer::Full(2, vec![0, 1, 2, 3]),
        Answer::Full(3, vec![4, 5, 6, 7]),
        Answer::Acked(1),
    ];
    assert_eq!(answers, expected);
    core.pull(4, 4, &mut events);
    assert!(
        events.is_empty(),
        "two rows are not a batch while the source runs"
    );
    core.finish(&mut events);
    assert_eq!(flatten(events), vec![Answer::Remainder(4, vec![8, 9])]);
}

#[test]
fn impossible_batches_are_rejected() {
    let mut core: BufferCore<Vec<u64>, u32> = BufferCore::new(4);
    let mut events = Vec::new();
    core.pull(5, 1, &mut events);
    core.pull(0, 2, &mut events);
    core.finish(&mut events);
    core.push(vec![vec![1]], 3, &mut events);
    assert_eq!(
        flatten(events),
        vec![
            Answer::Rejected(1),
            Answer::Rejected(2),
            Answer::Rejected(3)
        ]
    );
}
