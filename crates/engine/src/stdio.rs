//! The guest's stdout and stderr: the engine's own fd 1 and 2, written whole. These descriptions
//! are shared with fabricks and whatever started it, and any of them may set O_NONBLOCK on them
//! at any time (Node does, for its own stdio): a write that meets a full pipe then waits until
//! the reader takes some, instead of failing and losing the guest's output.

use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

#[derive(Clone, Copy)]
pub struct FdOutput(pub i32);

/// Writes all of `bytes` to `fd`, waiting for room whenever the descriptor is non-blocking.
fn write_all(fd: i32, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: fd 1 and 2 stay open for the life of the process; the buffer is valid for its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n >= 0 {
            bytes = &bytes[n as usize..];
            continue;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => {
                let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
                // SAFETY: one valid pollfd; -1 waits until the reader makes room
                unsafe { libc::poll(&mut p, 1, -1) };
            }
            _ => return Err(e),
        }
    }
    Ok(())
}

impl OutputStream for FdOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        write_all(self.0, &bytes).map_err(|e| if e.kind() == io::ErrorKind::BrokenPipe { StreamError::Closed } else { StreamError::LastOperationFailed(e.into()) })
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1 << 20)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for FdOutput {
    async fn ready(&mut self) {}
}

impl AsyncWrite for FdOutput {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(write_all(self.0, buf).map(|()| buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for FdOutput {
    fn is_terminal(&self) -> bool {
        // SAFETY: isatty only reads the descriptor's kind
        unsafe { libc::isatty(self.0) == 1 }
    }
}

impl StdoutStream for FdOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(*self)
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(*self)
    }
}
