//! wgpu host: adapter selection, pipeline cache, buffer pool, batched command recording,
//! `GpuTensor` handles, uploads and readback.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

use super::shaders;

/// Why no wgpu device could be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuError {
    /// No adapter at all (no GPU driver and no software Vulkan such as lavapipe).
    NoAdapter,
    /// `NASC_WGPU_ADAPTER` named an adapter that does not exist; the list says which do.
    AdapterNotFound { wanted: String, available: Vec<String> },
    /// The adapter refused to open a device.
    Device(String),
}

impl std::fmt::Display for GpuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuError::NoAdapter => write!(
                f,
                "no wgpu adapter found (no GPU driver and no software Vulkan; on Debian/Ubuntu \
                 `apt-get install mesa-vulkan-drivers` provides lavapipe)"
            ),
            GpuError::AdapterNotFound { wanted, available } => {
                write!(f, "NASC_WGPU_ADAPTER={wanted:?} matches no adapter; available: {available:?}")
            }
            GpuError::Device(e) => write!(f, "could not open a wgpu device: {e}"),
        }
    }
}

impl std::error::Error for GpuError {}

/// Passes a `GpuTensor`'s buffer back to the pool when the tensor is dropped.
struct Pool {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    /// bytes currently held in `free`
    held: u64,
}

const POOL_LIMIT: u64 = 1 << 30;
/// Command-recording batches are submitted after this many recorded passes.
const MAX_PENDING: usize = 2048;

#[derive(Clone, PartialEq, Eq, Hash)]
struct PipeKey {
    family: &'static str,
    entry: &'static str,
    consts: Vec<(&'static str, u64)>,
}

struct Pipe {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

struct Recorder {
    encoder: Option<wgpu::CommandEncoder>,
    pending: usize,
}

pub(crate) struct Inner {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipes: Mutex<HashMap<PipeKey, Arc<Pipe>>>,
    pool: Mutex<Pool>,
    rec: Mutex<Recorder>,
    stats: Mutex<GpuStats>,
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default)]
pub struct GpuStats {
    pub submissions: u64,
    pub dispatches: u64,
    pub pipelines_compiled: u64,
    pub buffers_created: u64,
    pub buffers_reused: u64,
}

/// A wgpu device with its caches. Cheap to clone (shared handle); thread-safe.
#[derive(Clone)]
pub struct Gpu {
    pub(crate) inner: Arc<Inner>,
}

/// A device buffer of `len` 32-bit elements (f32, or u32 for labels). Dropping it returns the
/// buffer to the pool; reading it back is [`Gpu::read`].
pub struct GpuTensor {
    buf: Option<wgpu::Buffer>,
    len: usize,
    pool: Arc<Inner>,
}

impl GpuTensor {
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buf.as_ref().unwrap()
    }
    /// Bytes the kernels see (at least 4: wgpu cannot bind empty ranges).
    pub(crate) fn bytes(&self) -> u64 {
        (self.len as u64 * 4).max(4)
    }
}

impl Drop for GpuTensor {
    fn drop(&mut self) {
        if let Some(b) = self.buf.take() {
            let mut p = self.pool.pool.lock().unwrap();
            if p.held + b.size() <= POOL_LIMIT {
                p.held += b.size();
                p.free.entry(b.size()).or_default().push(b);
            }
        }
    }
}

impl std::fmt::Debug for GpuTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuTensor(len {})", self.len)
    }
}

/// Work size of a dispatch.
pub(crate) enum Work {
    /// One invocation per item, in workgroups of the given size.
    Threads(usize, usize),
    /// This many workgroups.
    Groups(usize),
}

/// One binding of a dispatch: slot number and buffer range.
pub(crate) struct Bind<'a> {
    pub slot: u32,
    pub buf: &'a wgpu::Buffer,
    pub size: u64,
}

pub(crate) fn b(slot: u32, t: &GpuTensor) -> Bind<'_> {
    Bind { slot, buf: t.buffer(), size: t.bytes() }
}

fn rank(t: wgpu::DeviceType) -> u32 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn describe(i: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
}

impl Gpu {
    /// Opens a device. Adapter choice: `NASC_WGPU_ADAPTER` (an index into the enumeration or a
    /// case-insensitive substring of the adapter's name) when set; otherwise the best of
    /// discrete GPU > integrated > virtual > other > CPU (lavapipe/llvmpipe). `WGPU_BACKEND`
    /// narrows the backends as usual in wgpu.
    pub fn new() -> Result<Gpu, GpuError> {
        // Vulkan/Metal/DX12 by default (GL has no storage-buffer compute worth using here and
        // its EGL probing is noisy); WGPU_BACKEND overrides.
        let desc = wgpu::InstanceDescriptor { backends: wgpu::Backends::PRIMARY, ..wgpu::InstanceDescriptor::new_without_display_handle() };
        let instance = wgpu::Instance::new(desc.with_env());
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        if adapters.is_empty() {
            return Err(GpuError::NoAdapter);
        }
        let infos: Vec<wgpu::AdapterInfo> = adapters.iter().map(|a| a.get_info()).collect();
        let pick = match std::env::var("NASC_WGPU_ADAPTER") {
            Ok(w) if !w.is_empty() => {
                let by_index = w.parse::<usize>().ok().filter(|&i| i < adapters.len());
                let by_name = infos.iter().position(|i| i.name.to_lowercase().contains(&w.to_lowercase()));
                by_index.or(by_name).ok_or_else(|| GpuError::AdapterNotFound { wanted: w.clone(), available: infos.iter().map(describe).collect() })?
            }
            _ => (0..adapters.len()).min_by_key(|&i| (rank(infos[i].device_type), i)).unwrap(),
        };
        let adapter = &adapters[pick];
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("nasc-kernels"),
            required_features: wgpu::Features::empty(),
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device(e.to_string()))?;
        Ok(Gpu {
            inner: Arc::new(Inner {
                device,
                queue,
                info: infos[pick].clone(),
                modules: Mutex::new(HashMap::new()),
                pipes: Mutex::new(HashMap::new()),
                pool: Mutex::new(Pool { free: HashMap::new(), held: 0 }),
                rec: Mutex::new(Recorder { encoder: None, pending: 0 }),
                stats: Mutex::new(GpuStats::default()),
            }),
        })
    }

    /// "name (backend, device type)" of the adapter in use.
    pub fn adapter_name(&self) -> String {
        describe(&self.inner.info)
    }

    pub fn adapter_info(&self) -> wgpu::AdapterInfo {
        self.inner.info.clone()
    }

    pub fn stats(&self) -> GpuStats {
        *self.inner.stats.lock().unwrap()
    }

    fn alloc_buffer(&self, bytes: u64) -> wgpu::Buffer {
        let size = bytes.max(4).div_ceil(256) * 256;
        {
            let mut p = self.inner.pool.lock().unwrap();
            if let Some(b) = p.free.get_mut(&size).and_then(|v| v.pop()) {
                p.held -= size;
                self.inner.stats.lock().unwrap().buffers_reused += 1;
                return b;
            }
        }
        self.inner.stats.lock().unwrap().buffers_created += 1;
        self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// An uninitialized tensor of `len` elements (every kernel overwrites its outputs).
    pub fn empty(&self, len: usize) -> GpuTensor {
        GpuTensor { buf: Some(self.alloc_buffer(len as u64 * 4)), len, pool: self.inner.clone() }
    }

    /// A tensor of zeros.
    pub fn zeros(&self, len: usize) -> GpuTensor {
        self.full(len, 0.0)
    }

    /// A tensor filled with `v`.
    pub fn full(&self, len: usize, v: f32) -> GpuTensor {
        let t = self.empty(len);
        self.dispatch("elementwise", "fill", &[("ALPHA", v as f64)], &[b(2, &t)], None, Work::Threads(len, 256));
        t
    }

    fn upload_bytes(&self, bytes: &[u8], len: usize) -> GpuTensor {
        // A fresh mapped-at-creation buffer: its contents are visible to every later
        // submission, so no ordering with the pending recording is needed.
        let mut data = bytes.to_vec();
        if data.is_empty() {
            data.resize(4, 0);
        }
        let buf = self.inner.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: &data,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        });
        self.inner.stats.lock().unwrap().buffers_created += 1;
        GpuTensor { buf: Some(buf), len, pool: self.inner.clone() }
    }

    /// Uploads `f32` data.
    pub fn upload(&self, data: &[f32]) -> GpuTensor {
        self.upload_bytes(bytemuck::cast_slice(data), data.len())
    }

    /// Uploads `u32` data (class labels).
    pub fn upload_u32(&self, data: &[u32]) -> GpuTensor {
        self.upload_bytes(bytemuck::cast_slice(data), data.len())
    }

    /// A uniform buffer holding `data` (per-step scalars such as the learning rate).
    pub(crate) fn uniform(&self, data: &[f32]) -> wgpu::Buffer {
        self.inner.device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: None, contents: bytemuck::cast_slice(data), usage: wgpu::BufferUsages::UNIFORM })
    }

    /// Submits everything recorded so far (without waiting).
    pub fn flush(&self) {
        let mut rec = self.inner.rec.lock().unwrap();
        if let Some(enc) = rec.encoder.take() {
            self.inner.queue.submit([enc.finish()]);
            self.inner.stats.lock().unwrap().submissions += 1;
        }
        rec.pending = 0;
    }

    /// Submits and waits until the device is idle.
    pub fn sync(&self) {
        self.flush();
        self.inner.device.poll(wgpu::PollType::wait_indefinitely()).expect("wgpu poll");
    }

    /// Copies a tensor back to the host (submits pending work and waits).
    pub fn read(&self, t: &GpuTensor) -> Vec<f32> {
        bytemuck::cast_slice(&self.read_bytes(t)).to_vec()
    }

    fn read_bytes(&self, t: &GpuTensor) -> Vec<u8> {
        if t.len == 0 {
            return Vec::new();
        }
        let size = t.len as u64 * 4;
        let staging = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.with_encoder(|enc| enc.copy_buffer_to_buffer(t.buffer(), 0, &staging, 0, size));
        self.flush();
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.inner.device.poll(wgpu::PollType::wait_indefinitely()).expect("wgpu poll");
        rx.recv().expect("map callback").expect("buffer map failed");
        let view = staging.slice(..).get_mapped_range().expect("mapped range");
        let out = view.to_vec();
        drop(view);
        staging.unmap();
        out
    }

    /// Device-side copy of a tensor.
    pub fn copy(&self, t: &GpuTensor) -> GpuTensor {
        let out = self.empty(t.len);
        if t.len > 0 {
            self.with_encoder(|enc| enc.copy_buffer_to_buffer(t.buffer(), 0, out.buffer(), 0, t.len as u64 * 4));
        }
        out
    }

    fn with_encoder(&self, f: impl FnOnce(&mut wgpu::CommandEncoder)) {
        let full = {
            let mut rec = self.inner.rec.lock().unwrap();
            let enc = rec.encoder.get_or_insert_with(|| self.inner.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None }));
            f(enc);
            rec.pending += 1;
            rec.pending >= MAX_PENDING
        };
        if full {
            self.flush();
        }
    }

    fn pipe(&self, family: &'static str, entry: &'static str, consts: &[(&'static str, f64)]) -> Arc<Pipe> {
        let key = PipeKey { family, entry, consts: consts.iter().map(|&(k, v)| (k, v.to_bits())).collect() };
        if let Some(p) = self.inner.pipes.lock().unwrap().get(&key) {
            return p.clone();
        }
        let module = {
            let mut mods = self.inner.modules.lock().unwrap();
            mods.entry(family)
                .or_insert_with(|| {
                    self.inner.device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some(family), source: wgpu::ShaderSource::Wgsl(shaders::source(family).into()) })
                })
                .clone()
        };
        let pipeline = self.inner.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions { constants: consts, zero_initialize_workgroup_memory: false },
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        let p = Arc::new(Pipe { pipeline, layout });
        self.inner.pipes.lock().unwrap().insert(key, p.clone());
        self.inner.stats.lock().unwrap().pipelines_compiled += 1;
        p
    }

    /// Records one dispatch of `family::entry`, specialized by `consts`, with the given storage
    /// bindings and an optional uniform `(slot, buffer)`.
    pub(crate) fn dispatch(&self, family: &'static str, entry: &'static str, consts: &[(&'static str, f64)], binds: &[Bind], uniform: Option<(u32, &wgpu::Buffer)>, work: Work) {
        let groups = match work {
            Work::Threads(n, wg) => n.div_ceil(wg),
            Work::Groups(g) => g,
        };
        if groups == 0 {
            return;
        }
        let p = self.pipe(family, entry, consts);
        let mut entries: Vec<wgpu::BindGroupEntry> = binds
            .iter()
            .map(|bd| wgpu::BindGroupEntry {
                binding: bd.slot,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding { buffer: bd.buf, offset: 0, size: wgpu::BufferSize::new(bd.size) }),
            })
            .collect();
        if let Some((slot, u)) = uniform {
            entries.push(wgpu::BindGroupEntry { binding: slot, resource: u.as_entire_binding() });
        }
        let bg = self.inner.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &p.layout, entries: &entries });
        let gx = groups.min(65535);
        let gy = groups.div_ceil(gx);
        assert!(gy <= 65535, "dispatch of {groups} workgroups is too large");
        self.with_encoder(|enc| {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            pass.set_pipeline(&p.pipeline);
            pass.set_bind_group(0, &bg, &[]);
            pass.dispatch_workgroups(gx as u32, gy as u32, 1);
        });
        self.inner.stats.lock().unwrap().dispatches += 1;
    }
}
