//! A fake Prometheus HTTP API on 127.0.0.1 for the tests that talk to one:
//! it answers each request from a closure, records what was asked, and
//! stops after a bounded number of requests or 20 s, or when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A request's path and its query parameters (URL and form body), decoded.
pub type Request = (String, Vec<(String, String)>);

/// The server; dropping it stops its thread.
pub struct FakePrometheus {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A success response carrying `data` (a JSON value).
pub fn success(data: &str) -> String {
    format!(r#"{{"status":"success","data":{data}}}"#)
}

/// A success response carrying an instant vector with `result` (a JSON array).
pub fn vector(result: &str) -> String {
    success(&format!(r#"{{"resultType":"vector","result":{result}}}"#))
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn parameters(encoded: &str) -> impl Iterator<Item = (String, String)> + '_ {
    encoded.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (key, value) = p.split_once('=').unwrap_or((p, ""));
        (percent_decode(key), percent_decode(value))
    })
}

impl FakePrometheus {
    /// Serves at most `max` requests, each answered with the whole response
    /// body `answer(path, parameters)` returns.
    pub fn start(
        max: usize,
        answer: impl Fn(&str, &[(String, String)]) -> String + Send + 'static,
    ) -> FakePrometheus {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut served = 0;
            while served < max && Instant::now() < deadline && !stopped.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let target = first.split(' ').nth(1).unwrap_or("/");
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                let body = String::from_utf8_lossy(&body);
                let params: Vec<(String, String)> =
                    parameters(query).chain(parameters(&body)).collect();
                let response = answer(path, &params);
                seen.lock().unwrap().push((path.to_owned(), params));
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{response}",
                    response.len()
                );
                served += 1;
            }
        });
        FakePrometheus {
            url,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Every query the tool sent (`query` and `match[]` parameters).
    pub fn queries(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(_, params)| params.clone())
            .filter(|(key, _)| key == "query" || key == "match[]")
            .map(|(_, value)| value)
            .collect()
    }
}

impl Drop for FakePrometheus {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
