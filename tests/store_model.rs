//! The store against a BTreeMap model: random creates, updates (fresh and stale revisions),
//! deletes, lists and watches-from-revision must agree with the model at every step.

use std::collections::BTreeMap;

use bytes::Bytes;
use kubox::store::{ChangeKind, Op, Store, StoreError};
use kubox::trace::TraceBus;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Create(u8, u8),
    /// key, value, which revision to expect: 0 = none, 1 = the current one, 2 = a stale one
    Update(u8, u8, u8),
    Delete(u8, u8),
    List,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..6, any::<u8>()).prop_map(|(k, v)| Step::Create(k, v)),
        (0u8..6, any::<u8>(), 0u8..3).prop_map(|(k, v, e)| Step::Update(k, v, e)),
        (0u8..6, 0u8..3).prop_map(|(k, e)| Step::Delete(k, e)),
        Just(Step::List),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct Rec {
    value: Bytes,
    create_rev: u64,
    mod_rev: u64,
}

type Model = BTreeMap<String, Rec>;

fn key(k: u8) -> String {
    // Two prefixes so watches and lists by prefix are exercised.
    if k.is_multiple_of(2) {
        format!("/registry/pods/default/p{k}")
    } else {
        format!("/registry/minions/n{k}")
    }
}

fn expectation(e: u8, rec: Option<&Rec>) -> Option<u64> {
    match (e, rec) {
        (0, _) => None,
        (1, Some(r)) => Some(r.mod_rev),
        (1, None) => Some(1),
        (_, Some(r)) if r.mod_rev > 1 => Some(r.mod_rev - 1),
        (_, Some(r)) => Some(r.mod_rev + 1),
        (_, None) => Some(7),
    }
}

fn replay_matches(store: &Store, prefix: &str, from: u64, at_from: &Model, now: &Model) {
    let mut state: Model = at_from
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut watcher = store.watch(prefix, from).expect("watch within the window");
    let mut last = from;
    while let Some(ev) = watcher.try_next() {
        let ev = ev.expect("no error while replaying");
        assert!(ev.rev > last, "revisions strictly increase in a watch");
        last = ev.rev;
        assert!(ev.key.starts_with(prefix));
        match ev.kind {
            ChangeKind::Put => {
                assert_eq!(
                    ev.prev.is_some(),
                    state.contains_key(&*ev.key),
                    "prev tells create from update"
                );
                state.insert(
                    ev.key.to_string(),
                    Rec {
                        value: ev.value.clone(),
                        create_rev: ev.create_rev,
                        mod_rev: ev.rev,
                    },
                );
            }
            ChangeKind::Delete => {
                let gone = state.remove(&*ev.key).expect("deleted key existed");
                assert_eq!(Some(gone.value), ev.prev.as_ref().map(|p| p.value.clone()));
            }
        }
    }
    let want: Model = now
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(
        state, want,
        "watch from {from} over the state at {from} yields the current state"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn store_agrees_with_model(steps in prop::collection::vec(step(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
        let mut model = Model::new();
        let mut rev = 0u64;
        let mut history = vec![model.clone()]; // history[r] = state at revision r

        for step in steps {
            let (op, expect_ok) = match step {
                Step::Create(k, v) => {
                    let key = key(k);
                    let ok = !model.contains_key(&key);
                    (Op::Create { key, value: Bytes::from(vec![v]) }, ok)
                }
                Step::Update(k, v, e) => {
                    let key = key(k);
                    let cur = model.get(&key);
                    let expected = expectation(e, cur);
                    let ok = cur.is_some_and(|c| expected.is_none_or(|x| x == c.mod_rev));
                    (Op::Update { key, value: Bytes::from(vec![v]), expected }, ok)
                }
                Step::Delete(k, e) => {
                    let key = key(k);
                    let cur = model.get(&key);
                    let expected = expectation(e, cur);
                    let ok = cur.is_some_and(|c| expected.is_none_or(|x| x == c.mod_rev));
                    (Op::Delete { key, expected }, ok)
                }
                Step::List => {
                    let (items, at) = store.list("/registry/pods/").unwrap();
                    prop_assert_eq!(at, rev);
                    let got: Vec<_> = items.iter().map(|kv| (kv.key.to_string(), kv.value.clone(), kv.mod_rev)).collect();
                    let want: Vec<_> = model.iter().filter(|(k, _)| k.starts_with("/registry/pods/"))
                        .map(|(k, r)| (k.clone(), r.value.clone(), r.mod_rev)).collect();
                    prop_assert_eq!(&got, &want);
                    let (lazy, lazy_at) = store.list_lazily("/registry/pods/").unwrap();
                    prop_assert_eq!(lazy_at, rev);
                    let lazy: Vec<_> = lazy.map(|kv| kv.map(|kv| (kv.key.to_string(), kv.value, kv.mod_rev))).collect::<Result<_, _>>().unwrap();
                    prop_assert_eq!(lazy, want);
                    continue;
                }
            };
            let key = op.key().to_string();
            let result = store.write_blocking(op.clone());
            prop_assert_eq!(result.is_ok(), expect_ok, "{:?} -> {:?}", op, result);
            match result {
                Ok(ev) => {
                    prop_assert!(ev.rev == rev + 1, "one revision per write, strictly increasing");
                    rev = ev.rev;
                    match op {
                        Op::Delete { .. } => { model.remove(&key); }
                        Op::Create { value, .. } | Op::Update { value, .. } => {
                            let create_rev = model.get(&key).map_or(rev, |r| r.create_rev);
                            model.insert(key.clone(), Rec { value, create_rev, mod_rev: rev });
                        }
                    }
                    history.push(model.clone());
                }
                Err(StoreError::Conflict { expected, actual, .. }) => {
                    prop_assert_ne!(expected, actual);
                    prop_assert_eq!(Some(actual), model.get(&key).map(|r| r.mod_rev));
                }
                Err(StoreError::AlreadyExists { .. }) => prop_assert!(model.contains_key(&key)),
                Err(StoreError::NotFound { .. }) => prop_assert!(!model.contains_key(&key)),
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
            let (got, at) = store.get(&key).unwrap();
            prop_assert_eq!(at, rev);
            prop_assert_eq!(got.map(|kv| (kv.value, kv.create_rev, kv.mod_rev)),
                model.get(&key).map(|r| (r.value.clone(), r.create_rev, r.mod_rev)));
        }

        prop_assert_eq!(store.revision().unwrap(), rev);
        for from in 0..=rev {
            replay_matches(&store, "/registry/", from, &history[from as usize], &model);
            replay_matches(&store, "/registry/pods/", from, &history[from as usize], &model);
        }
    }
}

/// A lazy list reads from the snapshot it was opened on: writes that land while its reader
/// works through it are not in it (they arrive on the watch from the list's revision).
#[test]
fn a_lazy_list_keeps_its_snapshot_while_writes_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), TraceBus::quiet()).unwrap();
    for i in 0..300 {
        store
            .write_blocking(Op::Create {
                key: format!("/registry/pods/default/p{i:03}"),
                value: Bytes::from(vec![1]),
            })
            .unwrap();
    }
    store
        .write_blocking(Op::Create {
            key: "/registry/services/default/s".into(),
            value: Bytes::from(vec![1]),
        })
        .unwrap();
    let (mut items, at) = store.list_lazily("/registry/pods/").unwrap();
    let first = items.next().unwrap().unwrap();
    assert_eq!(&*first.key, "/registry/pods/default/p000");
    store
        .write_blocking(Op::Delete {
            key: "/registry/pods/default/p299".into(),
            expected: None,
        })
        .unwrap();
    store
        .write_blocking(Op::Create {
            key: "/registry/pods/default/p300".into(),
            value: Bytes::from(vec![1]),
        })
        .unwrap();
    let rest: Vec<_> = items.map(|kv| kv.unwrap().key.to_string()).collect();
    assert_eq!(rest.len(), 299, "the snapshot's 300 pods, nothing after");
    assert_eq!(rest.last().unwrap(), "/registry/pods/default/p299");
    assert!(at < store.revision().unwrap());
}
