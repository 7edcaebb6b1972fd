//! The typed errors of the trainer: a data file or folder that cannot be loaded
//! ([`DataError`]), a network graph that cannot be built ([`GraphError`]), a supernet spec
//! that cannot be built ([`SupernetError`]), a training run that cannot start
//! ([`SetupError`]). Each variant keeps what went wrong (the file, the node, the shapes);
//! messages are lowercase with user input in backticks, and the runner renders them
//! (`to_string`, or `?` through `From<_> for String`).
use crate::gpu::GpuError;
use crate::graph::{Op, Pad4};
use std::path::PathBuf;

/// Why a dataset, or one of its files, cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read `{}`: {source}", .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot list `{}`: {source}", .dir.display())]
    List { dir: PathBuf, source: std::io::Error },
    /// What is wrong with the file `path`.
    #[error("`{}`: {source}", .path.display())]
    InFile { path: PathBuf, source: Box<DataError> },
    #[error("bad gzip data: {0}")]
    Gzip(#[source] std::io::Error),
    /// Decompressed data over the limit (in MiB).
    #[error("the decompressed data is larger than {limit_mib} MiB")]
    TooLarge { limit_mib: u64 },
    /// CIFAR-10 data that is not whole records of `record` bytes.
    #[error("{bytes} bytes is not a whole number of {record}-byte CIFAR-10 records")]
    CifarRecords { bytes: usize, record: usize },
    #[error("not an IDX file (shorter than its magic)")]
    ShortMagic,
    #[error("not an IDX file (bad magic)")]
    BadMagic,
    #[error("truncated IDX header")]
    TruncatedHeader,
    #[error("the IDX header declares {declared} bytes of data, more than the {limit_mib} MiB limit")]
    DeclaredTooLarge { declared: u64, limit_mib: u64 },
    #[error("IDX element type 0x{code:02x} is not supported (only unsigned bytes, 0x08)")]
    ElementType { code: u8 },
    #[error("IDX dimensions overflow")]
    DimsOverflow,
    #[error("IDX data has {found} bytes, the header {dims:?} says {expected}")]
    DataLength { found: usize, dims: Vec<usize>, expected: usize },
    #[error("IDX images must have 3 or 4 dimensions, have {dims:?}")]
    ImageDims { dims: Vec<usize> },
    #[error("{images} images but labels of shape {labels:?}")]
    LabelShape { images: usize, labels: Vec<usize> },
    #[error("{bytes} image bytes do not hold {images} images of shape {shape:?}")]
    ImageBytes { bytes: usize, images: usize, shape: [usize; 3] },
    #[error("train images are {train:?} but test images {test:?}")]
    SplitShapes { train: [usize; 3], test: [usize; 3] },
    /// A named dataset's folder was not found (`tried`: the folders looked in).
    #[error("dataset folder `{name}` not found (looked in: {}); set NASC_DATA_DIR to the folder that holds it, or pass a path", .tried.iter().take(4).cloned().collect::<Vec<_>>().join(", "))]
    NoFolder { name: String, tried: Vec<String> },
    #[error("`{}` holds neither MNIST-style IDX files (train-/t10k-images-idx3-ubyte[.gz] and labels) nor an images/labels IDX pair", .dir.display())]
    NoIdx { dir: PathBuf },
    #[error("`{}` has no CIFAR-10 data_batch_*.bin and test_batch.bin", .dir.display())]
    NoCifar { dir: PathBuf },
    #[error("unknown dataset `{spec}`: expected digits, mnist, fashion-mnist, cifar10, or a folder of IDX or CIFAR-10 binary files")]
    UnknownDataset { spec: String },
}

/// Why a network graph is not executable (`Graph::validate`, `Layout::new`, `init`, `Model::new`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error("the graph must start with its input node")]
    NoInput,
    #[error("the output node does not exist")]
    NoOutput,
    #[error("node {node} reads node {input}, which is not earlier")]
    NotEarlier { node: usize, input: usize },
    #[error("node {node} has an empty shape {shape:?}")]
    EmptyShape { node: usize, shape: [usize; 3] },
    #[error("node {node} ({op:?}): declared shape {declared:?}, computed {computed:?}")]
    ShapeMismatch { node: usize, op: Op, declared: [usize; 3], computed: [usize; 3] },
    #[error("node {node} ({op:?}) takes {takes} input(s), has {has}")]
    Arity { node: usize, op: Op, takes: usize, has: usize },
    #[error("node {node}: only node 0 may be the input")]
    InputNotFirst { node: usize },
    #[error("node {node}: invalid conv {cin}->{out} groups {groups} kernel {kernel:?}")]
    InvalidConv { node: usize, cin: usize, out: usize, groups: usize, kernel: (usize, usize) },
    #[error("node {node}: conv kernel larger than its padded input {h}x{w}")]
    ConvTooLarge { node: usize, h: usize, w: usize },
    #[error("node {node}: pooling padding {pad:?} must be smaller than the window {window:?}")]
    PoolPadding { node: usize, pad: Pad4, window: (usize, usize) },
    #[error("node {node}: pooling window larger than its input {h}x{w}")]
    PoolTooLarge { node: usize, h: usize, w: usize },
    #[error("node {node}: dropout probability {p} is not in [0, 1)")]
    Dropout { node: usize, p: f32 },
    #[error("node {node}: mul needs equal shapes or a [c, 1, 1] side, has {a:?} and {b:?}")]
    MulShapes { node: usize, a: [usize; 3], b: [usize; 3] },
    /// An add or mean of no inputs or of inputs of different shapes.
    #[error("node {node}: {op:?} needs one or more inputs of equal shapes, has {inputs:?}")]
    UnequalInputs { node: usize, op: Op, inputs: Vec<[usize; 3]> },
    #[error("node {node}: concat needs inputs of equal spatial size, has {inputs:?}")]
    ConcatSizes { node: usize, inputs: Vec<[usize; 3]> },
}

/// Why a supernet cannot be built (`SupernetSpec::check`, `Supernet::new`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SupernetError {
    #[error("a supernet needs an op pool, layers, classes and non-zero stem and head widths")]
    Incomplete,
    #[error("every layer needs a width of at least 1 and a stride of 1 or 2")]
    BadLayer,
    /// The network of every op is not a valid graph.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Active op lists that do not fit the spec's `pool` ops and `layers`.
    #[error("the active ops must name pool ops (0..{pool}) for each of the {layers} layers")]
    ActiveOps { pool: usize, layers: usize },
}

/// Why training cannot start: a configuration, data or network that does not fit, or no device.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SetupError {
    #[error("epochs ({epochs}), batch ({batch}) and eval batch ({eval_batch}) must be at least 1")]
    Counts { epochs: usize, batch: usize, eval_batch: usize },
    #[error("learning rate {lr}: expected a positive finite number")]
    LearningRate { lr: f32 },
    #[error("final learning rate {eta_min}: expected a number in [0, {lr}]")]
    FinalLearningRate { eta_min: f32, lr: f32 },
    /// An optimizer constant (`momentum`, `beta1`...) that is negative or not finite.
    #[error("optimizer {name} {value}: expected a non-negative finite number")]
    OptimizerConstant { name: &'static str, value: f32 },
    #[error("the network's input is [{}, {}, {}] but {dataset} images are [{}, {}, {}]", .net[0], .net[1], .net[2], .data[0], .data[1], .data[2])]
    Shapes { net: [usize; 3], data: [usize; 3], dataset: String },
    #[error("the network has {outputs} outputs but {dataset} has {classes} classes")]
    Classes { outputs: usize, dataset: String, classes: usize },
    #[error("empty training set or batch size 0")]
    Empty,
    #[error("`{dataset}` has no test images")]
    NoTest { dataset: String },
    /// The network cannot be built.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// `--backend wgpu` and no adapter opens.
    #[error("no wgpu adapter: {0}")]
    NoAdapter(#[source] GpuError),
}

macro_rules! into_string {
    ($($t:ty),*) => {$(
        impl From<$t> for String {
            fn from(e: $t) -> String {
                e.to_string()
            }
        }
    )*};
}
into_string!(DataError, GraphError, SupernetError, SetupError);
