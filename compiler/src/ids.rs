//! Newtype ids. Raw indices never cross a module boundary.
use serde::Serialize;

macro_rules! id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    };
}

id!(
    /// One decision instance of the genotype (e.g. `edge[3]`).
    DecisionId
);
id!(
    /// A node of the IR network graph.
    NodeId
);
id!(
    /// A metric of the space (`params`, `flops`, user metrics), in declaration order.
    MetricId
);
