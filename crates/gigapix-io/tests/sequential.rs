//! Sequential access: buffered reads top to bottom, no memory map.

mod common;

use common::{pattern, read_all, read_strips, save};
use gigapix_core::{BandFormat, Ctx, ErrorKind, Header, Rect};
use gigapix_io::{AccessMode, OpenOptions, open};

fn sequential() -> OpenOptions {
    OpenOptions::default().access(AccessMode::Sequential)
}

#[test]
fn same_pixels_as_random_access() {
    let dir = tempfile::tempdir().unwrap();
    for (name, header) in [
        ("a.pgm", Header::new(5, 600, 1, BandFormat::U8)),
        ("b.ppm", Header::new(3, 300, 3, BandFormat::U16)),
        ("c.gpx", Header::new(2, 300, 2, BandFormat::F32)),
    ] {
        let path = dir.path().join(name);
        let mut data = pattern(header.image_bytes() as usize, 9);
        if header.format == BandFormat::F32 {
            data.iter_mut().skip(3).step_by(4).for_each(|b| *b &= 0x3f);
        }
        save(&path, &header, &data, 64).unwrap();
        let random = open(&path, &OpenOptions::default()).unwrap();
        let seq = open(&path, &sequential()).unwrap();
        assert_eq!(*seq.header(), header);
        assert_eq!(read_strips(&seq, 16).unwrap(), data, "{name}");
        assert_eq!(read_all(&random).unwrap(), data, "{name}");
        // Regions are copies, not views of a map.
        let region = Ctx::standalone()
            .region(&open(&path, &sequential()).unwrap(), Rect::new(1, 0, 1, 2))
            .unwrap();
        assert!(!region.is_view());
    }
}

#[test]
fn reading_out_of_order_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tall.pgm");
    let header = Header::new(4, 600, 1, BandFormat::U8);
    save(
        &path,
        &header,
        &pattern(header.image_bytes() as usize, 10),
        100,
    )
    .unwrap();
    let image = open(&path, &sequential()).unwrap();
    let mut ctx = Ctx::standalone();
    ctx.region(&image, Rect::new(0, 0, 4, 10)).unwrap();
    ctx.region(&image, Rect::new(0, 500, 4, 100)).unwrap();
    let e = ctx.region(&image, Rect::new(0, 0, 4, 1)).unwrap_err();
    assert_ne!(e.kind(), ErrorKind::Panic);
    assert!(e.message().contains("out of order"), "{e}");
}

#[test]
fn file_cut_after_open_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.ppm");
    let header = Header::new(4, 40, 3, BandFormat::U16);
    save(
        &path,
        &header,
        &pattern(header.image_bytes() as usize, 11),
        100,
    )
    .unwrap();
    let image = open(&path, &sequential()).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let e = read_strips(&image, 8).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format, "{e}");
    assert!(e.message().contains("truncated"), "{e}");
}

#[cfg(unix)]
#[test]
fn pipes_are_read_sequentially() {
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        _ => {
            eprintln!("mkfifo unavailable: skipped");
            return;
        }
    }
    let header = Header::new(7, 50, 3, BandFormat::U8);
    let data = pattern(header.image_bytes() as usize, 12);
    let mut bytes = b"P6\n7 50\n255\n".to_vec();
    bytes.extend_from_slice(&data);
    let feeder = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            // A reader that gives up closes the pipe: ignore EPIPE.
            let _ = f.write_all(&bytes);
        })
    };
    // Random access is asked for, but a pipe can only be streamed.
    let image = open(&fifo, &OpenOptions::default()).unwrap();
    assert_eq!(*image.header(), header);
    assert_eq!(read_strips(&image, 5).unwrap(), data);
    feeder.join().unwrap();
}
