//! The native half of the `gigapix` Python package: a PyO3 extension
//! (stable ABI, Python 3.11+) over the `gigapix` facade.
//!
//! It exposes a small, generic surface; the pure-Python layer in
//! `python/gigapix/__init__.py` builds the user-facing `Image` class from
//! it, one method per catalogue operation, generated from `catalogue()`:
//!
//! - `catalogue()`: every operation's descriptor as plain dicts;
//! - `call(name, input, kwargs)`: one operation built from typed values;
//! - loaders (`open`, `decode`, `thumbnail`, `thumbnail_buffer`,
//!   `from_array`) and sinks (`save`, `to_buffer`, `write_into`, `stats`,
//!   `values`), every sink run on a worker thread while the calling thread
//!   waits with the GIL released, wakes every 50 ms to check for signals
//!   (Ctrl-C cancels the run) and to call `progress`.
//!
//! `unsafe` is used for two zero-copy views only: a NumPy array's memory
//! as the `&[u8]` an image reads, and an output array's memory as the
//! `&mut [u8]` a run writes into.
#![deny(unsafe_code)]

/// The extension's Rust allocations go to mimalloc: a service calling the
/// engine in a loop starts worker threads for every run, and glibc's malloc
/// gives new threads new arenas that keep freed memory, so its peak RSS
/// crept up for hundreds of calls; mimalloc reclaims a finished thread's
/// memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gigapix::catalogue::{OpDesc, Output};
use gigapix::desc::{ArgDesc, ArgType, Value};
use gigapix::{
    BandFormat, CancelToken, ErrorKind, Image, OpenOptions, Progress, RunOptions, SaveOptions,
    ThumbnailOptions,
};
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};

create_exception!(
    _native,
    Error,
    PyRuntimeError,
    "An error from gigapix: its message starts with the operation's name."
);

/// A gigapix image: a lazy node of the operation graph.
#[pyclass(name = "NativeImage", module = "gigapix._native", frozen)]
struct PyImage {
    inner: Image,
}

fn wrap(inner: Image) -> PyImage {
    PyImage { inner }
}

/// A gigapix error as a Python exception: `ValueError` for bad arguments,
/// `gigapix.Error` for the rest.
fn err(e: gigapix::Error) -> PyErr {
    match e.kind() {
        ErrorKind::InvalidArgument => PyValueError::new_err(e.to_string()),
        _ => Error::new_err(e.to_string()),
    }
}

/// An argument's descriptor as a dict.
fn arg_dict<'py>(py: Python<'py>, a: &ArgDesc) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", a.name)?;
    d.set_item("type", a.ty.name())?;
    d.set_item("range", a.ty.range())?;
    d.set_item("describe", a.describe_type())?;
    d.set_item("required", a.required)?;
    d.set_item("default", a.default)?;
    d.set_item("doc", a.doc)?;
    match a.ty {
        ArgType::Int { min, max } => {
            d.set_item("min", min)?;
            d.set_item("max", max)?;
        }
        ArgType::Float { min, max } => {
            d.set_item("min", min)?;
            d.set_item("max", max)?;
        }
        ArgType::Enum(values) => d.set_item("values", values.to_vec())?,
        _ => {}
    }
    Ok(d)
}

/// Every catalogue operation as a dict: name, aliases, category, summary,
/// doc, input, output (`image` or `values`), example, args.
#[pyfunction]
fn catalogue(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for op in gigapix::catalogue::all() {
        let d = PyDict::new(py);
        d.set_item("name", op.name)?;
        d.set_item("aliases", op.aliases.to_vec())?;
        d.set_item("category", op.category.title())?;
        d.set_item("summary", op.summary)?;
        d.set_item("doc", op.doc)?;
        d.set_item("input", op.input)?;
        d.set_item(
            "output",
            match op.output {
                Output::Image => "image",
                Output::Values => "values",
            },
        )?;
        d.set_item("example", op.example)?;
        let args = PyList::empty(py);
        for a in op.args {
            args.append(arg_dict(py, a)?)?;
        }
        d.set_item("args", args)?;
        list.append(d)?;
    }
    Ok(list)
}

fn number(v: &Bound<'_, PyAny>) -> Option<f64> {
    if v.is_instance_of::<PyBool>() {
        return None;
    }
    if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() {
        return v.extract::<f64>().ok();
    }
    // NumPy scalars and other numbers with __float__ / __index__.
    if v.hasattr("__index__").unwrap_or(false) || v.hasattr("__float__").unwrap_or(false) {
        return v.extract::<f64>().ok();
    }
    None
}

fn numbers(v: &Bound<'_, PyAny>) -> Option<Vec<f64>> {
    if let Some(x) = number(v) {
        return Some(vec![x]);
    }
    if v.is_instance_of::<PyString>() {
        return None;
    }
    let mut out = Vec::new();
    for item in v.try_iter().ok()? {
        out.push(number(&item.ok()?)?);
    }
    (!out.is_empty()).then_some(out)
}

fn image_of(v: &Bound<'_, PyAny>) -> Option<Image> {
    let v = if v.hasattr("_native").unwrap_or(false) {
        v.getattr("_native").ok()?
    } else {
        v.clone()
    };
    v.downcast::<PyImage>().ok().map(|i| i.get().inner.clone())
}

/// A Python value as the typed value of argument `a` of `op`: a TypeError
/// for the wrong type, a ValueError out of range, both naming both.
fn value_of(op: &OpDesc, a: &ArgDesc, v: &Bound<'_, PyAny>) -> PyResult<Value> {
    let what = || format!("{}: argument `{}` ({})", op.name, a.name, a.describe_type());
    let got = || {
        v.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into())
    };
    let type_error = |expected: &str| {
        PyTypeError::new_err(format!("{}: expected {expected}, got {}", what(), got()))
    };
    let range_error =
        |shown: String| PyValueError::new_err(format!("{}: {shown} is out of range", what()));
    Ok(match a.ty {
        ArgType::Int { min, max } => {
            if v.is_instance_of::<PyBool>() || !v.hasattr("__index__")? {
                return Err(type_error("an int"));
            }
            let x: i64 = v.extract().map_err(|_| range_error(v.to_string()))?;
            if x < min || x > max {
                return Err(range_error(x.to_string()));
            }
            Value::Int(x)
        }
        ArgType::Float { min, max } => {
            let x = number(v).ok_or_else(|| type_error("a number"))?;
            if x.is_nan() || x < min || x > max {
                return Err(range_error(x.to_string()));
            }
            Value::Float(x)
        }
        ArgType::Bool => Value::Bool(
            v.downcast::<PyBool>()
                .map_err(|_| type_error("a bool"))?
                .is_true(),
        ),
        ArgType::Enum(values) => {
            let s: String = v.extract().map_err(|_| type_error("a str"))?;
            let found = values
                .iter()
                .find(|x| x.eq_ignore_ascii_case(&s))
                .ok_or_else(|| PyValueError::new_err(format!("{}: unknown value `{s}`", what())))?;
            Value::Enum(found)
        }
        ArgType::Numbers => {
            Value::Numbers(numbers(v).ok_or_else(|| type_error("a number or a list of numbers"))?)
        }
        ArgType::Matrix => {
            if let Ok(s) = v.extract::<String>() {
                Value::Text(s)
            } else {
                // Rows of numbers: [[-1, -1], [1, 1]] as "-1 -1; 1 1".
                let mut rows = Vec::new();
                for row in v
                    .try_iter()
                    .map_err(|_| type_error("a str or a list of rows of numbers"))?
                {
                    let row = numbers(&row?)
                        .ok_or_else(|| type_error("a str or a list of rows of numbers"))?;
                    let words: Vec<String> = row.iter().map(f64::to_string).collect();
                    rows.push(words.join(" "));
                }
                Value::Text(rows.join("; "))
            }
        }
        ArgType::Text => Value::Text(v.extract().map_err(|_| type_error("a str"))?),
        ArgType::Format => {
            let s: String = v.extract().map_err(|_| type_error("a str"))?;
            Value::Format(
                s.parse::<BandFormat>()
                    .map_err(|e| PyValueError::new_err(format!("{}: {e}", what())))?,
            )
        }
        ArgType::Image => Value::Image(
            image_of(v)
                .ok_or_else(|| type_error("an Image"))?
                .node()
                .clone(),
        ),
        ArgType::Images => {
            if let Some(i) = image_of(v) {
                Value::Images(vec![i.node().clone()])
            } else {
                let mut out = Vec::new();
                for item in v
                    .try_iter()
                    .map_err(|_| type_error("an Image or a list of Images"))?
                {
                    out.push(
                        image_of(&item?)
                            .ok_or_else(|| type_error("an Image or a list of Images"))?
                            .node()
                            .clone(),
                    );
                }
                Value::Images(out)
            }
        }
        ArgType::ImageOrConst => match image_of(v) {
            Some(i) => Value::Image(i.node().clone()),
            None => Value::Numbers(
                numbers(v).ok_or_else(|| type_error("an Image, a number or a list of numbers"))?,
            ),
        },
        _ => return Err(type_error("a value of a type this binding does not know")),
    })
}

/// Builds operation `name` on `input` (`None` for generators) from the
/// keyword arguments `kwargs`.
#[pyfunction]
#[pyo3(signature = (name, input, kwargs))]
fn call(
    name: &str,
    input: Option<&Bound<'_, PyImage>>,
    kwargs: &Bound<'_, PyDict>,
) -> PyResult<PyImage> {
    let op = gigapix::catalogue::find(name)
        .ok_or_else(|| PyValueError::new_err(format!("no operation `{name}`")))?;
    let mut values = Vec::new();
    let mut names = Vec::new();
    for (k, v) in kwargs.iter() {
        let k: String = k.extract()?;
        let a = op.args.iter().find(|a| a.name == k).ok_or_else(|| {
            let known: Vec<&str> = op.args.iter().map(|a| a.name).collect();
            PyTypeError::new_err(format!(
                "{}: unknown argument `{k}` (its arguments: {})",
                op.name,
                known.join(", ")
            ))
        })?;
        names.push(a.name);
        values.push(value_of(op, a, &v)?);
    }
    let pairs: Vec<(&str, Value)> = names.into_iter().zip(values).collect();
    let args = op.args_from(pairs).map_err(err)?;
    let input = input.map(|i| i.get().inner.node().clone());
    op.call(input.as_ref(), &args)
        .map(|i| wrap(Image::from(i)))
        .map_err(err)
}

fn open_options(options: Option<&Bound<'_, PyDict>>) -> PyResult<OpenOptions> {
    let mut o = OpenOptions::default();
    if let Some(d) = options {
        for (k, v) in d.iter() {
            let k: String = k.extract()?;
            o = o.set(&k, option_text(&v)?);
        }
    }
    Ok(o)
}

/// An option's value as the text of `name[key=value]`.
fn option_text(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = v.downcast::<PyBool>() {
        return Ok(b.is_true().to_string());
    }
    Ok(v.str()?.to_string())
}

/// Opens a file (its header only).
#[pyfunction]
#[pyo3(signature = (path, options=None))]
fn open(path: std::path::PathBuf, options: Option<&Bound<'_, PyDict>>) -> PyResult<PyImage> {
    Image::open_with(&path, &open_options(options)?)
        .map(wrap)
        .map_err(err)
}

/// Decodes an image file held in `data` (bytes are shared, never copied).
#[pyfunction]
#[pyo3(signature = (data, options=None))]
fn decode(data: &Bound<'_, PyBytes>, options: Option<&Bound<'_, PyDict>>) -> PyResult<PyImage> {
    let bytes = BytesOwner(data.clone().unbind());
    Image::decode_with(bytes, &open_options(options)?)
        .map(wrap)
        .map_err(err)
}

/// A Python `bytes` object as the owner of an image's encoded bytes:
/// `bytes` are immutable, so the view stays valid while it is held.
struct BytesOwner(Py<PyBytes>);

impl AsRef<[u8]> for BytesOwner {
    fn as_ref(&self) -> &[u8] {
        // `as_bytes` needs a GIL token to borrow, but the buffer of an
        // immutable `bytes` object lives as long as the object, which we
        // own; reading it needs no GIL.
        let ptr = self.0.as_ptr();
        #[allow(unsafe_code)]
        // SAFETY: `ptr` is a live `bytes` object (we hold a strong
        // reference); PyBytes_AsString and PyBytes_Size only read its
        // immutable header and return its fixed buffer, which is valid for
        // the object's lifetime and never mutated.
        unsafe {
            let data = pyo3::ffi::PyBytes_AsString(ptr);
            let len = pyo3::ffi::PyBytes_Size(ptr);
            std::slice::from_raw_parts(data.cast::<u8>(), len as usize)
        }
    }
}

fn thumbnail_options(options: Option<&Bound<'_, PyDict>>) -> PyResult<ThumbnailOptions> {
    let mut o = ThumbnailOptions::new();
    if let Some(d) = options {
        for (k, v) in d.iter() {
            let k: String = k.extract()?;
            let bad = |e: String| PyValueError::new_err(format!("thumbnail: option `{k}`: {e}"));
            o = match k.as_str() {
                "height" => o.height(v.extract()?),
                "crop" => o.crop(v.extract()?),
                "no_rotate" => o.no_rotate(v.extract()?),
                "kernel" => o.kernel(
                    v.extract::<String>()?
                        .parse::<gigapix::Kernel>()
                        .map_err(|e| bad(e.to_string()))?,
                ),
                "import_profile" => o.import_profile(v.extract::<String>()?),
                "export_profile" => o.export_profile(v.extract::<String>()?),
                "intent" => o.intent(match v.extract::<String>()?.to_ascii_lowercase().as_str() {
                    "perceptual" => gigapix::icc::Intent::Perceptual,
                    "relative" => gigapix::icc::Intent::Relative,
                    "saturation" => gigapix::icc::Intent::Saturation,
                    "absolute" => gigapix::icc::Intent::Absolute,
                    other => return Err(bad(format!("unknown intent `{other}`"))),
                }),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "thumbnail: unknown option `{k}` (height, crop, no_rotate, kernel, import_profile, export_profile, intent)"
                    )));
                }
            };
        }
    }
    Ok(o)
}

/// A thumbnail of the file at `path`, shrunk on load.
#[pyfunction]
#[pyo3(signature = (path, width, options=None))]
fn thumbnail(
    path: std::path::PathBuf,
    width: u32,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyImage> {
    Image::thumbnail(&path, width, &thumbnail_options(options)?)
        .map(wrap)
        .map_err(err)
}

/// A thumbnail of the image file in `data`, shrunk on load.
#[pyfunction]
#[pyo3(signature = (data, width, options=None))]
fn thumbnail_buffer(
    data: &Bound<'_, PyBytes>,
    width: u32,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyImage> {
    let bytes = BytesOwner(data.clone().unbind());
    Image::thumbnail_buffer(bytes, width, &thumbnail_options(options)?)
        .map(wrap)
        .map_err(err)
}

/// A NumPy array's memory, held alive by a reference to the array.
struct ArrayOwner {
    _array: Py<PyAny>,
    ptr: usize,
    len: usize,
}

impl AsRef<[u8]> for ArrayOwner {
    fn as_ref(&self) -> &[u8] {
        #[allow(unsafe_code)]
        // SAFETY: `ptr..ptr + len` is the data of a C-contiguous NumPy
        // array (checked in `from_array`) that `_array` keeps alive, so the
        // memory is allocated for as long as this owner exists. NumPy may
        // let Python code write to it meanwhile: the bytes read are then
        // unspecified (documented on `Image.from_numpy`), but they are
        // always initialised, allocated memory.
        unsafe {
            std::slice::from_raw_parts(self.ptr as *const u8, self.len)
        }
    }
}

/// An image over a C-contiguous array's memory, without a copy: the image
/// holds a reference to the array.
#[pyfunction]
fn from_array(
    array: &Bound<'_, PyUntypedArray>,
    width: u32,
    height: u32,
    bands: u32,
    format: &str,
) -> PyResult<PyImage> {
    if !array.is_c_contiguous() {
        return Err(PyValueError::new_err(
            "from_numpy: the array must be C-contiguous",
        ));
    }
    let format: BandFormat = format
        .parse()
        .map_err(|e| PyValueError::new_err(format!("from_numpy: {e}")))?;
    let len = array.len() * array.dtype().itemsize();
    let ptr = array.data_ptr();
    let owner = ArrayOwner {
        _array: array.clone().into_any().unbind(),
        ptr,
        len,
    };
    Image::from_memory(owner, width, height, bands, format)
        .map(wrap)
        .map_err(err)
}

trait DataPtr {
    fn data_ptr(&self) -> usize;
    fn writeable(&self) -> bool;
}

impl DataPtr for Bound<'_, PyUntypedArray> {
    fn data_ptr(&self) -> usize {
        #[allow(unsafe_code)]
        // SAFETY: `as_array_ptr` is a live PyArrayObject (the Bound holds
        // it); reading its `data` field reads no pixel.
        unsafe {
            (*self.as_array_ptr()).data as usize
        }
    }

    fn writeable(&self) -> bool {
        #[allow(unsafe_code)]
        // SAFETY: as above, reading the `flags` field of a live array.
        let flags = unsafe { (*self.as_array_ptr()).flags };
        flags & numpy::npyffi::NPY_ARRAY_WRITEABLE != 0
    }
}

/// The latest progress of a run, handed from its coordinating thread to
/// the Python thread.
type Latest = Arc<Mutex<Option<Progress>>>;

/// Runs `sink` on a worker thread with a cancellation token, the GIL
/// released; the calling thread wakes every 50 ms to check for signals
/// (Ctrl-C: cancel, wait, raise `KeyboardInterrupt`) and to hand progress
/// to `progress(done, total)`.
fn run_sink<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    sink: impl FnOnce(RunOptions) -> gigapix::Result<T> + Send,
) -> PyResult<T> {
    let token = CancelToken::new();
    let latest: Latest = Arc::new(Mutex::new(None));
    let mut options = RunOptions::new().cancel(token.clone());
    if progress.is_some() {
        let l = Arc::clone(&latest);
        options = options.progress(move |p| {
            if let Ok(mut g) = l.lock() {
                *g = Some(p);
            }
        });
    }
    let report = |py: Python<'_>| -> PyResult<()> {
        let p = latest.lock().ok().and_then(|mut g| g.take());
        if let (Some(f), Some(p)) = (progress, p) {
            f.call1((p.done, p.total))?;
        }
        let _ = py;
        Ok(())
    };
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::sync_channel::<()>(1);
        let rx = Mutex::new(rx);
        let handle = s.spawn(move || {
            let r = sink(options);
            let _ = tx.send(());
            r
        });
        let wait = |h: std::thread::ScopedJoinHandle<'_, gigapix::Result<T>>| {
            py.allow_threads(|| h.join())
                .map_err(|_| PyRuntimeError::new_err("gigapix: a run panicked"))
        };
        loop {
            let done = py.allow_threads(|| {
                !matches!(
                    rx.lock()
                        .map(|r| r.recv_timeout(Duration::from_millis(50)))
                        .unwrap_or(Ok(())),
                    Err(mpsc::RecvTimeoutError::Timeout)
                )
            });
            let checked = py.check_signals().and_then(|()| report(py));
            if let Err(e) = checked {
                token.cancel();
                let _ = wait(handle);
                return Err(e);
            }
            if done {
                break;
            }
        }
        let r = wait(handle)?;
        report(py)?;
        r.map_err(err)
    })
}

fn save_options(options: Option<&Bound<'_, PyDict>>) -> PyResult<SaveOptions> {
    let mut o = SaveOptions::default();
    if let Some(d) = options {
        for (k, v) in d.iter() {
            let k: String = k.extract()?;
            o = o.set(&k, option_text(&v)?);
        }
    }
    Ok(o)
}

/// `suffix[key=value,...]` from a suffix and options.
fn suffix_with(suffix: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    let mut pairs = Vec::new();
    if let Some(d) = options {
        for (k, v) in d.iter() {
            pairs.push(format!("{}={}", k.extract::<String>()?, option_text(&v)?));
        }
    }
    Ok(if pairs.is_empty() {
        suffix.to_string()
    } else {
        format!("{suffix}[{}]", pairs.join(","))
    })
}

/// Saves to `path` (format from its extension), atomically.
#[pyfunction]
#[pyo3(signature = (image, path, options=None, progress=None))]
fn save(
    py: Python<'_>,
    image: &Bound<'_, PyImage>,
    path: std::path::PathBuf,
    options: Option<&Bound<'_, PyDict>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let image = &image.get().inner;
    let options = save_options(options)?;
    run_sink(py, progress, |o| {
        image.run(o).save_with(&path, &options).map(drop)
    })
}

/// The image encoded as `suffix` (`.jpg`) with `options`, as bytes.
#[pyfunction]
#[pyo3(signature = (image, suffix, options=None, progress=None))]
fn to_buffer<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyImage>,
    suffix: &str,
    options: Option<&Bound<'py, PyDict>>,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let image = &image.get().inner;
    let suffix = suffix_with(suffix, options)?;
    let bytes = run_sink(py, progress, |o| {
        let mut out = std::io::Cursor::new(Vec::new());
        image.run(o).save_to_seekable(&mut out, &suffix)?;
        Ok(out.into_inner())
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Computes the image into `array` (C-contiguous, writable, exactly the
/// image's bytes), the GIL released.
#[pyfunction]
#[pyo3(signature = (image, array, progress=None))]
fn write_into(
    py: Python<'_>,
    image: &Bound<'_, PyImage>,
    array: &Bound<'_, PyUntypedArray>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let image = &image.get().inner;
    if !array.is_c_contiguous() || !array.writeable() {
        return Err(PyValueError::new_err(
            "write_into: the array must be C-contiguous and writable",
        ));
    }
    let len = array.len() * array.dtype().itemsize();
    let want = image.header().image_bytes();
    if len as u64 != want {
        return Err(PyValueError::new_err(format!(
            "write_into: the array has {len} bytes, the image {want}"
        )));
    }
    let ptr = array.data_ptr();
    #[allow(unsafe_code)]
    // SAFETY: `ptr..ptr + len` is the data of a writable C-contiguous
    // array that `array` keeps alive until this function returns, and the
    // slice is used only inside `run_sink`, which joins the run before
    // returning. Python code could touch the array from another thread
    // meanwhile (the GIL is released): the pixels are then unspecified, as
    // documented, but every byte written is inside the allocation.
    let buffer = unsafe { std::slice::from_raw_parts_mut(ptr as *mut u8, len) };
    run_sink(py, progress, move |o| {
        image.run(o).write_into(buffer).map(drop)
    })
}

/// Minimum, maximum, mean, standard deviation, sum, sum of squares per
/// band, as a list of dicts.
#[pyfunction]
#[pyo3(signature = (image, progress=None))]
fn stats<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyImage>,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let image = &image.get().inner;
    let s = run_sink(py, progress, |o| image.run(o).stats().map(|(s, _)| s))?;
    let list = PyList::empty(py);
    for b in &s.bands {
        let d = PyDict::new(py);
        d.set_item("min", b.min)?;
        d.set_item("max", b.max)?;
        d.set_item("mean", b.mean)?;
        d.set_item("sum", b.sum)?;
        d.set_item("sum_sq", b.sum_sq)?;
        d.set_item("count", b.count)?;
        d.set_item("stddev", b.stddev)?;
        list.append(d)?;
    }
    Ok(list)
}

/// Every sample of a (small) image as numbers, in order: the result of a
/// measurement operation.
#[pyfunction]
fn values(py: Python<'_>, image: &Bound<'_, PyImage>) -> PyResult<Vec<f64>> {
    let image = &image.get().inner;
    let format = image.format();
    let bytes = run_sink(py, None, |o| image.run(o).to_vec().map(|(v, _)| v))?;
    let size = format.size();
    Ok(bytes
        .chunks_exact(size)
        .map(|c| sample(format, c))
        .collect())
}

fn sample(format: BandFormat, c: &[u8]) -> f64 {
    let a = |n: usize| -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&c[..n]);
        b
    };
    match format {
        BandFormat::U8 => f64::from(c[0]),
        BandFormat::I8 => f64::from(c[0] as i8),
        BandFormat::U16 => f64::from(u16::from_ne_bytes([c[0], c[1]])),
        BandFormat::I16 => f64::from(i16::from_ne_bytes([c[0], c[1]])),
        BandFormat::U32 => f64::from(u32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
        BandFormat::I32 => f64::from(i32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
        BandFormat::F32 => f64::from(f32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
        _ => f64::from_ne_bytes(a(8)),
    }
}

#[pymethods]
impl PyImage {
    /// Width in pixels.
    #[getter]
    fn width(&self) -> u32 {
        self.inner.width()
    }

    /// Height in pixels.
    #[getter]
    fn height(&self) -> u32 {
        self.inner.height()
    }

    /// Samples per pixel.
    #[getter]
    fn bands(&self) -> u32 {
        self.inner.bands()
    }

    /// The band format: `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `f32`, `f64`.
    #[getter]
    fn format(&self) -> String {
        self.inner.format().to_string()
    }

    /// How the bands are to be read (`srgb`, `grey`, ...).
    #[getter]
    fn interpretation(&self) -> String {
        self.inner.header().interpretation.to_string()
    }

    /// The metadata: text fields, `orientation`, and the ICC profile and
    /// EXIF block as bytes (`icc-profile-data`, `exif-data`) when present.
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let m = self.inner.metadata();
        let d = PyDict::new(py);
        for (k, v) in &m.fields {
            d.set_item(k, v)?;
        }
        d.set_item("orientation", m.orientation)?;
        if let Some(icc) = &m.icc {
            d.set_item("icc-profile-data", PyBytes::new(py, icc))?;
        }
        if let Some(exif) = &m.exif {
            d.set_item("exif-data", PyBytes::new(py, exif))?;
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "<gigapix.Image {}x{} {} bands {} {}>",
            self.inner.width(),
            self.inner.height(),
            self.inner.bands(),
            self.inner.format(),
            self.inner.header().interpretation
        )
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyImage>()?;
    m.add("Error", m.py().get_type::<Error>())?;
    m.add_function(wrap_pyfunction!(catalogue, m)?)?;
    m.add_function(wrap_pyfunction!(call, m)?)?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(thumbnail, m)?)?;
    m.add_function(wrap_pyfunction!(thumbnail_buffer, m)?)?;
    m.add_function(wrap_pyfunction!(from_array, m)?)?;
    m.add_function(wrap_pyfunction!(save, m)?)?;
    m.add_function(wrap_pyfunction!(to_buffer, m)?)?;
    m.add_function(wrap_pyfunction!(write_into, m)?)?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(values, m)?)?;
    Ok(())
}
