//! The `gigapix` command.
//!
//! ```text
//! gigapix header FILE
//! gigapix copy IN OUT
//! gigapix dzsave IN OUT [--tile-size 256 --layout google ... | key=value ...]
//! gigapix stats IN [-- OP ARGS [: OP ARGS]...]
//! gigapix pipe IN OUT -- OP ARGS [key=value ...] [: OP ARGS ...]...
//! gigapix OPERATION IN OUT ARGS [--name value | name=value ...]
//! gigapix OPERATION --help
//! gigapix list [--markdown] | gigapix list formats [--markdown]
//! gigapix completions bash|zsh|fish
//! gigapix thumbnail IN OUT SIZE [--height H] [--crop] [--no-rotate]
//! gigapix thumbnail -s SIZE [-o PATTERN] IN...
//! gigapix serve DIR_OR_ZIP [--port N] [--host H] [--log FILE]
//! ```
//!
//! IN may be a file, a generator (`black:WxHxB`, `xyz:WxH`,
//! `noise:WxHxB[:SEED]`, `zone:WxH`) or `-`, standard input; OUT a file,
//! a bare suffix such as `.png` or `.jpg[Q=85]` for standard output, or
//! `null:` (also `-`) to compute every pixel and discard it (see
//! `stdio.rs`). Exit status: 0 success, 1 runtime error, 2 usage error,
//! 130 after SIGINT and 143 after SIGTERM (the run is cancelled and no
//! temporary file is left: see `signals.rs`).
#![forbid(unsafe_code)]

mod pipeline;
mod progress;
mod serve;
mod signals;
mod stdio;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gigapix::catalogue::Output;
use gigapix::{CancelToken, Image, RunOptions, RunReport};

use crate::pipeline::{UsageError, apply_ops, open_input};

/// `--version`: the version, then the JPEG encoder and decoder paths of
/// this build and the SIMD levels they run at.
fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{}\n{}",
            env!("CARGO_PKG_VERSION"),
            gigapix_io::jpeg_codec_paths()
        )
    })
}

/// The words IN and OUT, shown after the commands in `--help`.
const IN_OUT_HELP: &str = "\
IN is a file (with load options in brackets: `in.tif[page=2]`), a generator
(`black:WxHxB`, `xyz:WxH`, `noise:WxHxB[:SEED]`, `zone:WxH`), or `-` for
standard input (`-[page=1]` with options), read whole into memory first (at
most 4 GiB, the loader's single-allocation limit); one input only may be `-`.

OUT is a file, its format from its extension, with save options in brackets
(`out.jpg[Q=85]`); or a bare suffix, `.png`, `.jpg[Q=85]`, `.ppm`, `.gpx`,
`.webp`, `.tif`..., for standard output in that format (refused when it is a
terminal; `./.jpg` is a path, not standard output). TIFF goes straight into a
redirected file, and into a pipe is made in memory first (at most `--memory`,
or 4 GiB). Tile pyramids (dzsave) cannot go to standard output.
`null:` is the null sink: every pixel is computed and discarded (`-` as OUT
is the same, its older name). Operations that give numbers take `null:` or
`-` as OUT.

Example: cat in.jpg | gigapix thumbnail - .jpg 256 > tn.jpg";

/// Process images of any size in a few megabytes of memory.
#[derive(Parser, Debug, Clone)]
#[command(name = "gigapix", version, long_version = long_version(), about, long_about = None,
    after_help = IN_OUT_HELP)]
struct Cli {
    /// Worker threads (default: GIGAPIX_CONCURRENCY or every core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Print wall time, throughput, threads and peak pixel memory to stderr.
    #[arg(long, global = true)]
    stats: bool,
    /// Show the progress bar even when stderr is not a terminal.
    ///
    /// The bar (percent, Mpx/s and ETA; files done of the total for a batch
    /// of thumbnails) is drawn on stderr once a run has lasted about a
    /// second, and cleared when it ends. By default it is shown only when
    /// stderr is a terminal.
    #[arg(long, global = true, conflicts_with = "no_progress")]
    progress: bool,
    /// Never show the progress bar.
    #[arg(long, global = true)]
    no_progress: bool,
    /// Print the plan (nodes, caches, tile geometry, threads and the
    /// estimated peak memory) and exit without computing a pixel.
    #[arg(long, global = true)]
    plan: bool,
    /// Fit the run into this much memory (e.g. `64M`, `1.5G`, `800k`;
    /// decimal units, `MiB`/`GiB` binary): smaller strips, fewer threads,
    /// caches on disk; or refuse it before any work, with the estimate.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    memory: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug, Clone)]
enum Command {
    /// Print an image's header (reads the header only).
    Header {
        /// Image file, generator, or `-` (standard input).
        #[arg(allow_hyphen_values = true)]
        file: String,
    },
    /// Convert IN to OUT; the output format comes from OUT's extension.
    #[command(after_help = IN_OUT_HELP)]
    Copy {
        /// Input file, generator, or `-` (standard input).
        #[arg(allow_hyphen_values = true)]
        input: String,
        /// Output file, a bare suffix (`.png`) for standard output, or
        /// `null:` to compute and discard.
        output: String,
    },
    /// Write a deep-zoom tile pyramid: `dzsave IN OUT [options]`, OUT
    /// `NAME.dzi` (a directory tree), `NAME.zip` or `NAME.szi`; options
    /// as `--tile-size 256`, `--centre` or `tile_size=256` (`gigapix dzsave
    /// --help` lists them, from the DeepZoom entry of the format table).
    #[command(disable_help_flag = true)]
    Dzsave {
        /// Input file or generator, output, then options.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
    /// Minimum, maximum, mean and standard deviation per band.
    Stats {
        /// Input file, generator, or `-` (standard input).
        #[arg(allow_hyphen_values = true)]
        input: String,
        /// Operations to apply first: `-- OP ARGS [: OP ARGS]...`.
        #[arg(last = true, value_name = "OPS")]
        ops: Vec<String>,
    },
    /// Run a chain of operations from IN to OUT in one process.
    #[command(after_help = IN_OUT_HELP)]
    Pipe {
        /// Input file, generator, or `-` (standard input).
        #[arg(allow_hyphen_values = true)]
        input: String,
        /// Output file, a bare suffix (`.png`) for standard output, or
        /// `null:` to compute and discard.
        output: String,
        /// The operations: `-- OP ARGS [key=value ...] [: OP ARGS ...]...`.
        #[arg(last = true, required = true, value_name = "OPS")]
        ops: Vec<String>,
    },
    /// Make thumbnails that fit a box: `thumbnail IN OUT SIZE`, or many
    /// inputs at once, one per thread, with `-s SIZE [-o PATTERN] IN...`.
    /// JPEGs are shrunk on load; images are turned upright. IN may be `-`
    /// (standard input) and OUT a bare suffix (`.jpg`, standard output):
    /// `cat in.jpg | gigapix thumbnail - .jpg 256 > tn.jpg`.
    #[command(after_help = IN_OUT_HELP)]
    Thumbnail {
        /// `IN OUT SIZE`, or with --size the input files.
        #[arg(required = true, value_name = "FILES")]
        args: Vec<String>,
        /// Box size: WIDTH or WIDTHxHEIGHT (with several inputs).
        #[arg(short = 's', long, value_name = "SIZE")]
        size: Option<String>,
        /// Output pattern with several inputs: `%s` is the input's name
        /// without its extension; relative patterns go beside each input.
        #[arg(short = 'o', long, value_name = "PATTERN", default_value = "tn_%s.jpg")]
        output: String,
        /// Height of the box (default: as SIZE says, else square).
        #[arg(long, value_name = "H")]
        height: Option<u32>,
        /// Fill the box and crop the centre instead of fitting inside it.
        #[arg(long)]
        crop: bool,
        /// Keep the stored orientation (no autorotate).
        #[arg(long)]
        no_rotate: bool,
        /// Fallback input profile for images with none embedded: srgb, p3,
        /// adobe-rgb, prophoto, grey or a file.
        #[arg(long, value_name = "PROFILE")]
        import_profile: Option<String>,
        /// Transform the thumbnail to this profile (default: images whose
        /// profile is not sRGB, CMYK included, go to sRGB).
        #[arg(long, value_name = "PROFILE")]
        export_profile: Option<String>,
        /// Rendering intent: relative, perceptual, saturation or absolute.
        #[arg(long, value_name = "INTENT", default_value = "relative")]
        intent: String,
    },
    /// List the operations by category (`gigapix list`), or the file
    /// formats (`gigapix list formats`).
    List {
        /// `formats` for the file formats.
        what: Option<String>,
        /// Markdown tables, as in the README and the book.
        #[arg(long)]
        markdown: bool,
    },
    /// Serve a deep-zoom pyramid (a directory, a `.zip`/`.szi`, or a
    /// descriptor such as `out.dzi`) and its viewer page over HTTP: open
    /// the printed address in a browser.
    ///
    /// `/` is the pyramid's `index.html`, or a viewer page made for the
    /// descriptor found (DeepZoom, IIIF, Zoomify, Google). The first line
    /// on stdout is `serving http://HOST:PORT/`; one access-log line per
    /// request goes to stderr (or `--log FILE`). Ctrl-C stops it.
    Serve {
        /// The pyramid directory, zip or descriptor file.
        source: std::path::PathBuf,
        /// TCP port (0: any free port).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Append the access log to FILE instead of stderr.
        #[arg(long, value_name = "FILE")]
        log: Option<std::path::PathBuf>,
    },
    /// Print a shell completion script: `gigapix completions bash >
    /// /etc/bash_completion.d/gigapix` (also zsh and fish).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Any operation of the catalogue on its own: `gigapix OPERATION IN OUT
    /// ARGS` (for example `gigapix gaussblur in.tif out.tif 10`); `gigapix
    /// OPERATION --help` describes its arguments, `gigapix list` lists them.
    #[command(external_subcommand)]
    Operation(Vec<String>),
}

enum Failure {
    Usage(String),
    Runtime(String),
}

impl From<UsageError> for Failure {
    fn from(e: UsageError) -> Failure {
        Failure::Usage(e.0)
    }
}

impl From<gigapix::Error> for Failure {
    fn from(e: gigapix::Error) -> Failure {
        Failure::Runtime(e.to_string())
    }
}

fn main() -> ExitCode {
    // Kernel panics are caught by the engine and come back as errors with
    // the operation's name; the default hook would print them twice.
    std::panic::set_hook(Box::new(|_| {}));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let cancel = CancelToken::new();
    let interrupts = signals::Interrupts::install(cancel.clone());
    let result = match &cli.command {
        Command::Serve {
            source,
            port,
            host,
            log,
        } => serve::serve(
            &serve::Options {
                source: source.clone(),
                host: host.clone(),
                port: *port,
                log: log.clone(),
            },
            &cancel,
        )
        .map_err(Failure::Runtime),
        _ => run(&cli, cancel),
    };
    if result.is_err()
        && let Some((code, message)) = interrupts.caught()
    {
        eprintln!("gigapix: {message}");
        return ExitCode::from(code);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("gigapix: {msg}");
            eprintln!("Try 'gigapix --help' for more information.");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("gigapix: error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: &Cli, cancel: CancelToken) -> Result<(), Failure> {
    let mut opts = RunOptions::new().cancel(cancel);
    if let Some(n) = cli.threads {
        if n == 0 {
            return Err(Failure::Usage("--threads must be at least 1".into()));
        }
        opts = opts.threads(n);
    }
    if let Some(bytes) = cli.memory {
        opts = opts.memory_budget(bytes);
    }
    let bar = progress::Mode::from_flags(cli.progress, cli.no_progress);
    match &cli.command {
        Command::Header { file } => {
            // Standard input is described from a temporary copy.
            let spooled = if stdio::is_stdin(file) {
                Some(stdio::spool(file)?)
            } else {
                None
            };
            let described = spooled
                .as_ref()
                .map_or(std::path::Path::new(file), |(p, _)| p.as_ref());
            let image = match &spooled {
                Some((_, image)) => image.clone(),
                None => open_input(file)?,
            };
            let h = image.header();
            println!("file: {file}");
            if let Ok(info) = gigapix::describe(described) {
                println!("file format: {}", info.variant);
            }
            println!("width: {}", h.width);
            println!("height: {}", h.height);
            println!("bands: {}", h.bands);
            println!("format: {}", h.format);
            println!("interpretation: {}", h.interpretation);
            let m = image.metadata();
            if m.orientation > 1 {
                println!("orientation: {}", m.orientation);
            }
            if let Some(icc) = &m.icc {
                println!("icc profile: {} bytes", icc.len());
            }
            if let Some(exif) = &m.exif {
                println!("exif: {} bytes", exif.len());
            }
            for (k, v) in &m.fields {
                println!("{k}: {v}");
            }
            // A pyramid's levels, one line each (the TIFF loader lists
            // them in `level-sizes`).
            if let Some(sizes) = m.field("level-sizes") {
                for (n, size) in sizes.split(',').enumerate() {
                    println!("level {n}: {size}");
                }
            }
            Ok(())
        }
        Command::Copy { input, output } => {
            let image = open_input(input)?;
            if cli.plan {
                return print_plan(&image, Some(output), &opts);
            }
            finish(cli, save(&image, output, opts, bar)?)
        }
        Command::Dzsave { args } => dzsave(cli, args, opts, bar),
        Command::Pipe { input, output, ops } => {
            let chain = apply_ops(open_input(input)?, ops)?;
            emit(cli, &chain, Some(output), opts, bar)
        }
        Command::Operation(words) => operation(cli, words, opts, bar),
        Command::List { what, markdown } => {
            match (what.as_deref(), markdown) {
                (None, false) => print!("{}", gigapix::catalogue::list_text()),
                (None, true) => print!("{}", gigapix::catalogue::list_markdown()),
                (Some("formats"), false) => print!("{}", gigapix::formats_text()),
                (Some("formats"), true) => print!("{}", gigapix::formats_markdown()),
                (Some(other), _) => {
                    return Err(Failure::Usage(format!(
                        "list: unknown list `{other}` (nothing for the operations, or `formats`)"
                    )));
                }
            }
            Ok(())
        }
        // Run by `main` itself, with the signal token.
        Command::Serve { .. } => Err(Failure::Usage("serve: not here".into())),
        Command::Completions { shell } => {
            let mut cmd = completion_command();
            clap_complete::generate(*shell, &mut cmd, "gigapix", &mut std::io::stdout());
            Ok(())
        }
        Command::Thumbnail {
            args,
            size,
            output,
            height,
            crop,
            no_rotate,
            import_profile,
            export_profile,
            intent,
        } => thumbnails(
            cli,
            args,
            size.as_deref(),
            output,
            *height,
            *crop,
            *no_rotate,
            (import_profile, export_profile, intent),
            opts,
            bar,
        ),
        Command::Stats { input, ops } => {
            let image = apply_ops(open_input(input)?, ops)?.image;
            if cli.plan {
                return print_plan(&image, None, &opts);
            }
            let (opts, guard) = progress::attach(opts, bar, input);
            let result = image.run(opts).stats();
            guard.finish();
            let (stats, report) = result?;
            println!("band        min          max         mean       stddev");
            for (i, b) in stats.bands.iter().enumerate() {
                println!(
                    "{i:>4} {:>12} {:>12} {:>12.6} {:>12.6}",
                    fmt_num(b.min),
                    fmt_num(b.max),
                    b.mean,
                    b.stddev
                );
            }
            if stats.bands.len() > 1 {
                let o = stats.overall();
                println!(
                    " all {:>12} {:>12} {:>12.6} {:>12.6}",
                    fmt_num(o.min),
                    fmt_num(o.max),
                    o.mean,
                    o.stddev
                );
            }
            finish(cli, report)
        }
    }
}

/// Parses `W` or `WxH`.
fn box_size(s: &str) -> Result<(u32, Option<u32>), Failure> {
    let bad = || {
        Failure::Usage(format!(
            "bad thumbnail size `{s}`: expected WIDTH or WIDTHxHEIGHT"
        ))
    };
    let (w, h) = match s.split_once('x') {
        Some((w, h)) => (w, Some(h)),
        None => (s, None),
    };
    let w = w.parse::<u32>().map_err(|_| bad())?;
    let h = h.map(|h| h.parse::<u32>().map_err(|_| bad())).transpose()?;
    if w == 0 || h == Some(0) {
        return Err(bad());
    }
    Ok((w, h))
}

/// The output path for `input` from a pattern such as `tn_%s.jpg[Q=75]`.
fn output_for(pattern: &str, input: &str) -> String {
    let path = std::path::Path::new(input);
    let stem = path
        .file_stem()
        .map_or_else(|| input.into(), |s| s.to_string_lossy());
    let name = pattern.replace("%s", &stem);
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && std::path::Path::new(&name).is_relative() => {
            dir.join(name).to_string_lossy().into_owned()
        }
        _ => name,
    }
}

#[allow(clippy::too_many_arguments)]
fn thumbnails(
    cli: &Cli,
    args: &[String],
    size: Option<&str>,
    pattern: &str,
    height: Option<u32>,
    crop: bool,
    no_rotate: bool,
    (import_profile, export_profile, intent): (&Option<String>, &Option<String>, &String),
    opts: RunOptions,
    bar: progress::Mode,
) -> Result<(), Failure> {
    let batch = size.is_some();
    // `IN OUT SIZE`, or `-s SIZE IN...` with an output pattern.
    let (jobs, size): (Vec<(String, String)>, &str) = match size {
        Some(size) => (
            args.iter()
                .map(|i| (i.clone(), output_for(pattern, i)))
                .collect(),
            size,
        ),
        None => match args {
            [input, output, size] => (vec![(input.clone(), output.clone())], size.as_str()),
            _ => {
                return Err(Failure::Usage(
                    "thumbnail: expected `IN OUT SIZE`, or `--size SIZE IN...`".into(),
                ));
            }
        },
    };
    let (width, box_height) = box_size(size)?;
    let mut options = gigapix::ThumbnailOptions::new()
        .crop(crop)
        .no_rotate(no_rotate)
        .intent(gigapix::icc::Intent::parse(intent)?);
    if let Some(p) = import_profile {
        options = options.import_profile(p);
    }
    if let Some(p) = export_profile {
        options = options.export_profile(p);
    }
    if let Some(h) = height.or(box_height) {
        options = options.height(h);
    }
    if batch {
        if let Some((input, _)) = jobs.iter().find(|(i, _)| stdio::is_stdin(i)) {
            return Err(Failure::Usage(format!(
                "thumbnail: `{input}` (standard input) needs `thumbnail - OUT SIZE`, not --size"
            )));
        }
        if !matches!(stdio::target(pattern), stdio::Target::Path(_)) {
            return Err(Failure::Usage(format!(
                "thumbnail: -o `{pattern}`: with --size the outputs are files; `./{pattern}` names one"
            )));
        }
    }
    // Standard input is read once, and shrunk on load from its bytes.
    let open = |input: &str| -> Result<Image, Failure> {
        if stdio::is_stdin(input) {
            let bytes = stdio::read_all(input, false)?;
            return Ok(gigapix::Image::thumbnail_buffer(bytes, width, &options)?);
        }
        Ok(gigapix::Image::thumbnail(input, width, &options)?)
    };
    let one = |input: &str,
               output: &str,
               opts: RunOptions,
               bar: progress::Mode|
     -> Result<RunReport, Failure> {
        let image = open(input)?;
        save(&image, output, opts, bar)
    };
    if cli.plan {
        for (input, output) in &jobs {
            let image = open(input)?;
            print_plan(&image, Some(output), &opts)?;
        }
        return Ok(());
    }
    if let [(input, output)] = jobs.as_slice() {
        return finish(cli, one(input, output, opts, bar)?);
    }
    // A bar counting files; none per image.
    let files = progress::files(bar, jobs.len() as u64, "thumbnails");
    // Several images: one per worker, each run on one thread.
    let workers = opts
        .threads
        .unwrap_or_else(gigapix::default_threads)
        .min(jobs.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((input, output)) = jobs.get(i) else {
                        break;
                    };
                    let result = one(input, output, opts.clone().threads(1), progress::Mode::Off);
                    files.inc();
                    let mut failed = failures.lock().unwrap_or_else(|e| e.into_inner());
                    match result {
                        Ok(report) => files.suspend(|| {
                            for w in &report.warnings {
                                eprintln!("gigapix: warning: {w}");
                            }
                            if cli.stats {
                                eprintln!("gigapix: {input}: {report}");
                            }
                        }),
                        Err(Failure::Runtime(m) | Failure::Usage(m)) => failed.push(m),
                    }
                }
            });
        }
    });
    drop(files);
    let failed = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    match failed.as_slice() {
        [] => Ok(()),
        [only] => Err(Failure::Runtime(only.clone())),
        [first, rest @ ..] => {
            for m in rest {
                eprintln!("gigapix: error: {m}");
            }
            Err(Failure::Runtime(first.clone()))
        }
    }
}

/// The help of `gigapix dzsave`, from the options of the DeepZoom format.
fn dzsave_help() -> String {
    let desc = gigapix::FileFormat::DeepZoom.desc();
    format!(
        "Write a deep-zoom tile pyramid in one pass over the image.\n\n\
         Usage: gigapix dzsave IN OUT [--name value | --flag | name=value ...]\n\n\
         IN: a file, a generator or `-` (standard input, read whole).\n\
         OUT: NAME.dzi (a directory tree: NAME.dzi and NAME_files/, or NAME/ for the \
         other layouts), NAME.zip (the same in a zip) or NAME.szi (a zip with \
         scan-properties.xml). `gigapix copy IN NAME.dzi` is the same with the defaults.\n\n\
         Options (`-` and `_` alike):\n{}",
        gigapix::desc::help_lines(desc.save_options)
    )
}

/// `gigapix dzsave IN OUT [options]`: options as `--name value`,
/// `--name=value`, `--flag` (a bool option, `true` unless a `true`/`false`
/// follows) or `name=value`, handed to the saver as save options (checked
/// there against the descriptor).
fn dzsave(
    cli: &Cli,
    args: &[String],
    opts: RunOptions,
    bar: progress::Mode,
) -> Result<(), Failure> {
    if args.iter().any(|a| a == "--help" || a == "-h") || args.is_empty() {
        print!("{}", dzsave_help());
        return Ok(());
    }
    let descs = gigapix::FileFormat::DeepZoom.desc().save_options;
    let is_bool = |key: &str| {
        let key = key.replace('-', "_");
        descs.iter().any(|d| {
            d.name.eq_ignore_ascii_case(&key) && matches!(d.ty, gigapix::desc::ArgType::Bool)
        })
    };
    let mut positional = Vec::new();
    let mut save = gigapix::SaveOptions::new();
    let mut it = args.iter().peekable();
    while let Some(w) = it.next() {
        if let Some(flag) = w.strip_prefix("--") {
            if let Some((k, v)) = flag.split_once('=') {
                save = save.set(&k.replace('-', "_"), v);
            } else if is_bool(flag) {
                let v = match it.peek().map(|s| s.to_ascii_lowercase()) {
                    Some(v)
                        if ["true", "false", "1", "0", "yes", "no", "on", "off"]
                            .contains(&v.as_str()) =>
                    {
                        it.next();
                        v
                    }
                    _ => "true".to_string(),
                };
                save = save.set(&flag.replace('-', "_"), v);
            } else {
                let v = it
                    .next()
                    .ok_or_else(|| Failure::Usage(format!("dzsave: --{flag} needs a value")))?;
                save = save.set(&flag.replace('-', "_"), v);
            }
        } else if positional.len() >= 2
            && let Some((k, v)) = w.split_once('=')
        {
            save = save.set(&k.replace('-', "_"), v);
        } else {
            positional.push(w.clone());
        }
    }
    let [input, output] = positional.as_slice() else {
        return Err(Failure::Usage(
            "usage: gigapix dzsave IN OUT [options] (see `gigapix dzsave --help`)".into(),
        ));
    };
    if !matches!(stdio::target(output), stdio::Target::Path(_)) {
        return Err(Failure::Usage(format!(
            "dzsave: `{output}`: a tile pyramid is many files; OUT must be a path (`NAME.dzi`, `NAME.zip`, `NAME.szi`)"
        )));
    }
    let image = open_input(input)?;
    if cli.plan {
        return print_plan(&image, Some(output), &opts);
    }
    let (opts, guard) = progress::attach(opts, bar, output);
    let result = image.run(opts).save_with(output, &save);
    guard.finish();
    finish(cli, result?)
}

/// `gigapix OPERATION ...`: the operation's help, or one step on its own.
fn operation(
    cli: &Cli,
    words: &[String],
    opts: RunOptions,
    bar: progress::Mode,
) -> Result<(), Failure> {
    let name = words[0].as_str();
    let op = pipeline::operation(name).map_err(|e| {
        Failure::Usage(format!(
            "{} (commands: header, copy, stats, pipe, thumbnail, list, completions)",
            e.0
        ))
    })?;
    let rest = &words[1..];
    if rest.iter().any(|w| w == "--help" || w == "-h") {
        print!("{}", op.help());
        println!(
            "\nIN: a file, a generator or `-` (standard input); OUT: a file, a bare suffix \
             such as `.png` (standard output) or `null:` (compute and discard); \
             `gigapix --help` has the details."
        );
        return Ok(());
    }
    // Global options may follow the operation too.
    let (mut opts, mut stats_flag, mut words) = (opts, cli.stats, Vec::new());
    let mut plan_flag = cli.plan;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "--stats" => stats_flag = true,
            "--plan" => plan_flag = true,
            "--memory" => {
                let bytes = it
                    .next()
                    .ok_or_else(|| Failure::Usage("--memory needs a size".into()))
                    .and_then(|v| parse_size(v).map_err(Failure::Usage))?;
                opts = opts.memory_budget(bytes);
            }
            "--threads" => {
                let n = it
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| {
                        Failure::Usage("--threads needs a number of at least 1".into())
                    })?;
                opts = opts.threads(n);
            }
            _ => words.push(w.clone()),
        }
    }
    let fixed = usize::from(op.input) + usize::from(op.output == Output::Image);
    if words.len() < fixed {
        return Err(Failure::Usage(format!(
            "usage: gigapix {} (see `gigapix {} --help`)",
            op.usage(),
            op.name
        )));
    }
    let input = if op.input {
        Some(open_input(&words[0])?)
    } else {
        None
    };
    let output = (op.output == Output::Image).then(|| words[usize::from(op.input)].as_str());
    let image = pipeline::apply_step(input.as_ref(), op, &words[fixed..])?;
    let chain = pipeline::Chain {
        image,
        output: op.output,
    };
    let cli = Cli {
        stats: stats_flag,
        plan: plan_flag,
        ..cli.clone()
    };
    emit(&cli, &chain, output, opts, bar)
}

/// Saves the chain's image to `output`, or prints its values.
fn emit(
    cli: &Cli,
    chain: &pipeline::Chain,
    output: Option<&str>,
    opts: RunOptions,
    bar: progress::Mode,
) -> Result<(), Failure> {
    if cli.plan {
        return print_plan(
            &chain.image,
            output.filter(|_| chain.output == Output::Image),
            &opts,
        );
    }
    match chain.output {
        Output::Image => {
            let output = output.expect("image operations have an output");
            finish(cli, save(&chain.image, output, opts, bar)?)
        }
        Output::Values => {
            if output.is_some_and(|o| stdio::target(o) != stdio::Target::Null) {
                return Err(Failure::Usage(
                    "the last step gives numbers, not an image: use `null:` (or `-`) as OUT".into(),
                ));
            }
            let (bytes, report) = chain.image.run(opts).to_vec()?;
            let values = chain.image.format().samples_to_f64(&bytes);
            let text: Vec<String> = values.iter().map(|v| fmt_num(*v)).collect();
            // One line per row of the result.
            let per_row = (chain.image.width() * chain.image.bands()) as usize;
            for row in text.chunks(per_row.max(1)) {
                println!("{}", row.join(" "));
            }
            finish(cli, report)
        }
    }
}

/// The command tree for completions: the built-in commands and one
/// subcommand per operation, with its named arguments.
fn completion_command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    for op in gigapix::catalogue::all() {
        let mut sub = clap::Command::new(op.name).about(op.summary);
        for a in op.args.iter() {
            let mut arg = clap::Arg::new(a.name).long(a.name).help(a.doc);
            if let gigapix::desc::ArgType::Enum(values) = a.ty {
                arg = arg.value_parser(values.to_vec());
            }
            sub = sub.arg(arg);
        }
        cmd = cmd.subcommand(sub);
    }
    cmd
}

fn save(
    image: &Image,
    output: &str,
    opts: RunOptions,
    bar: progress::Mode,
) -> Result<RunReport, Failure> {
    let target = stdio::target(output);
    let label = match target {
        stdio::Target::Null => "computing",
        stdio::Target::Stdout(_) => "stdout",
        stdio::Target::Path(p) => p,
    };
    let budget = opts.memory_budget;
    let (opts, guard) = progress::attach(opts, bar, label);
    let run = image.run(opts);
    let report = match target {
        stdio::Target::Null => run.discard().map_err(Failure::from),
        stdio::Target::Stdout(suffix) => stdio::save(&run, suffix, budget),
        stdio::Target::Path(p) => run.save(p).map_err(Failure::from),
    };
    guard.finish();
    report
}

fn finish(cli: &Cli, report: RunReport) -> Result<(), Failure> {
    for w in &report.warnings {
        eprintln!("gigapix: warning: {w}");
    }
    if cli.stats {
        eprintln!("gigapix: {report}");
    }
    Ok(())
}

/// `--plan`: the plan of saving to `output` (of discarding, for `null:`,
/// `-` or none), printed to stdout.
fn print_plan(image: &Image, output: Option<&str>, opts: &RunOptions) -> Result<(), Failure> {
    let plan = match output.map(stdio::target) {
        Some(stdio::Target::Path(p)) => image.plan_save(p, opts)?,
        Some(stdio::Target::Stdout(suffix)) => image.plan_save(stdio::plan_path(suffix), opts)?,
        Some(stdio::Target::Null) | None => image.plan(opts)?,
    };
    print!("{plan}");
    Ok(())
}

/// A size for `--memory`: a number with an optional unit, `k`/`M`/`G`
/// (decimal) or `KiB`/`MiB`/`GiB` (binary); a trailing `B` is allowed.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "--memory: unknown unit `{unit}` in `{s}` (k, M, G, MiB, GiB)"
            ));
        }
    };
    match num.parse::<f64>() {
        Ok(v) if v > 0.0 && (v * scale).is_finite() && v * scale < 1.8e19 => Ok((v * scale) as u64),
        _ => Err(format!("--memory: `{s}` is not a positive size (e.g. 64M)")),
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.6}")
    }
}
