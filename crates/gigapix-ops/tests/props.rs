//! Random graphs of operations over small sources: every result equals the
//! reference implementation, bit for bit, whatever the tiling.

mod common;

use common::graph::{apply, source, step};
use common::{Rng, assert_matches};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_match_reference(
        kind in 0u8..4,
        w in 1u32..20,
        h in 1u32..20,
        bands in 1u32..5,
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 0..7),
        tiling in any::<u64>(),
    ) {
        let (mut img, mut r) = source(kind, w, h, bands, seed);
        for s in &steps {
            (img, r) = apply(s, &img, &r);
        }
        // Two random tilings and request orders: tile invariance and
        // equality with the reference.
        let mut rng = Rng::new(tiling);
        assert_matches(&img, &r, &mut rng);
        assert_matches(&img, &r, &mut rng);
    }
}
