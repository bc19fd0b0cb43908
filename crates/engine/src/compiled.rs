//! Components compiled once per machine and kept as `<cache>/<hex>/component.cwasm`, beside a
//! `fabricks.json` recording its size and sha256 with the file's inode, size and mtime. A cached
//! file is trusted while it is the file that was written; one that changed is hashed again, and a
//! damaged one is compiled afresh. fabricks leases, lists and trims these folders
//! (src/engine/compiled-cache.ts).

use crate::channel::Channel;
use crate::job::ComponentFile;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;
use wasmtime::component::Component;
use wasmtime::{Engine, Result};

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    bytes: u64,
    sha256: String,
    stamp: [u64; 3],
}

fn stamp(path: &Path) -> std::io::Result<[u64; 3]> {
    let m = fs::metadata(path)?;
    Ok([m.ino(), m.size(), (m.mtime() as u64).wrapping_mul(1_000_000_000).wrapping_add(m.mtime_nsec() as u64)])
}

fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cached compiled form, when it is there and intact.
fn cached(engine: &Engine, folder: &Path) -> Option<Component> {
    let cwasm = folder.join("component.cwasm");
    let meta: Meta = serde_json::from_slice(&fs::read(folder.join("fabricks.json")).ok()?).ok()?;
    if stamp(&cwasm).ok()? != meta.stamp && file_sha256(&cwasm).ok()? != meta.sha256 {
        return None;
    }
    // SAFETY: the file is one this engine wrote (checked above against what it recorded), and
    // entries are replaced by rename, never rewritten in place.
    let component = unsafe { Component::deserialize_file(engine, &cwasm) }.ok()?;
    // its last use, for trimming
    let now = fs::FileTimes::new().set_modified(std::time::SystemTime::now());
    let _ = fs::File::open(folder).and_then(|f| f.set_times(now));
    Some(component)
}

/// `file` compiled for this machine, from the cache or compiled now (and kept).
pub fn compiled(engine: &Engine, cache: &Path, file: &ComponentFile, channel: &Channel) -> Result<Component> {
    compiled_with(engine, cache, file, channel, &[])
}

/// As `compiled`, with more files written beside the compiled component (a prepared form's
/// report), in place before the entry is, so no run sees the one without the others.
pub fn compiled_with(engine: &Engine, cache: &Path, file: &ComponentFile, channel: &Channel, extra: &[(&str, &[u8])]) -> Result<Component> {
    let folder = cache.join(&file.hex);
    if folder.exists() {
        if let Some(c) = cached(engine, &folder) {
            return Ok(c);
        }
        // damaged: compiled afresh (a run still using the old file keeps its mapping)
        if !file.cached_only {
            let _ = fs::remove_dir_all(&folder);
        }
    }
    if file.cached_only {
        wasmtime::bail!("the prepared form {} is not in the cache (run fabricks prepare again)", file.hex);
    }
    if file.announce {
        channel.send(&json!({ "compiling": file.hex }));
    }
    let started = Instant::now();
    let component = Component::from_file(engine, &file.path)?;
    let data = component.serialize()?;
    let tmp = cache.join(format!("{}.tmp-{}-{:08x}", file.hex, std::process::id(), rand_u32()));
    let kept = (|| -> std::io::Result<()> {
        fs::create_dir_all(&tmp)?;
        let cwasm = tmp.join("component.cwasm");
        fs::write(&cwasm, &data)?;
        let meta = Meta { bytes: data.len() as u64, sha256: hex(&Sha256::digest(&data)), stamp: stamp(&cwasm)? };
        fs::write(tmp.join("fabricks.json"), serde_json::to_vec(&meta).expect("serializes"))?;
        for (name, bytes) in extra {
            fs::write(tmp.join(name), bytes)?;
        }
        fs::rename(&tmp, &folder)
    })();
    // another run compiled it first, or the cache cannot be written: never fail the run for it
    if kept.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    channel.send(&json!({ "compiled": file.hex, "bytes": data.len(), "ms": started.elapsed().as_millis() as u64 }));
    // Run from the file (ours, or another run's that won the rename) as every later run does:
    // its data segments are then mapped from it. The in-memory form would copy them into sealed
    // memfds, which some kernels refuse ("cannot add seals to the memfd", seen in CI).
    Ok(cached(engine, &folder).unwrap_or(component))
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    if let Ok(mut f) = fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut b);
    }
    u32::from_le_bytes(b) ^ std::process::id()
}
