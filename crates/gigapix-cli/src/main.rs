//! The `gigapix` command.
//!
//! ```text
//! gigapix header FILE
//! gigapix copy IN OUT
//! gigapix stats IN [-- OP ARGS [: OP ARGS]...]
//! gigapix pipe IN OUT -- OP ARGS [key=value ...] [: OP ARGS ...]...
//! ```
//!
//! IN may be a file or a generator (`black:WxHxB`, `xyz:WxH`,
//! `noise:WxHxB[:SEED]`, `zone:WxH`); OUT `-` computes every pixel and
//! discards it. Exit status: 0 success, 1 runtime error, 2 usage error.
#![forbid(unsafe_code)]

mod pipeline;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gigapix::{Image, RunOptions, RunReport};

use crate::pipeline::{UsageError, apply_ops, open_input};

/// Process images of any size in a few megabytes of memory.
#[derive(Parser, Debug)]
#[command(name = "gigapix", version, about, long_about = None)]
struct Cli {
    /// Worker threads (default: GIGAPIX_CONCURRENCY or every core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Print wall time, throughput, threads and peak pixel memory to stderr.
    #[arg(long, global = true)]
    stats: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print an image's header (reads the header only).
    Header {
        /// Image file or generator.
        file: String,
    },
    /// Convert IN to OUT; the output format comes from OUT's extension.
    Copy {
        /// Input file or generator.
        input: String,
        /// Output file, or `-` to compute and discard.
        output: String,
    },
    /// Minimum, maximum, mean and standard deviation per band.
    Stats {
        /// Input file or generator.
        input: String,
        /// Operations to apply first: `-- OP ARGS [: OP ARGS]...`.
        #[arg(last = true, value_name = "OPS")]
        ops: Vec<String>,
    },
    /// Run a chain of operations from IN to OUT in one process.
    Pipe {
        /// Input file or generator.
        input: String,
        /// Output file, or `-` to compute and discard.
        output: String,
        /// The operations: `-- OP ARGS [key=value ...] [: OP ARGS ...]...`.
        #[arg(last = true, required = true, value_name = "OPS")]
        ops: Vec<String>,
    },
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
    match run(&cli) {
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

fn run(cli: &Cli) -> Result<(), Failure> {
    let mut opts = RunOptions::new();
    if let Some(n) = cli.threads {
        if n == 0 {
            return Err(Failure::Usage("--threads must be at least 1".into()));
        }
        opts = opts.threads(n);
    }
    match &cli.command {
        Command::Header { file } => {
            let image = open_input(file)?;
            let h = image.header();
            println!("file: {file}");
            if let Ok(info) = gigapix::describe(file) {
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
            Ok(())
        }
        Command::Copy { input, output } => {
            let image = open_input(input)?;
            finish(cli, save(&image, output, opts)?)
        }
        Command::Pipe { input, output, ops } => {
            let image = apply_ops(open_input(input)?, ops)?;
            finish(cli, save(&image, output, opts)?)
        }
        Command::Stats { input, ops } => {
            let image = apply_ops(open_input(input)?, ops)?;
            let (stats, report) = image.run(opts).stats()?;
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

fn save(image: &Image, output: &str, opts: RunOptions) -> Result<RunReport, Failure> {
    let run = image.run(opts);
    Ok(if output == "-" {
        run.discard()?
    } else {
        run.save(output)?
    })
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

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.6}")
    }
}
