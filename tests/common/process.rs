//! One `cypherlink` service of a test as a real process: started from a [`ServiceCommand`],
//! awaited until it prints its ready line on stdout, killed with SIGKILL, and started again from
//! the same command on the same files. The crash tests kill each service this way; nothing in
//! them sleeps to let a service get ready. The payments bench starts its connector the same way
//! (it includes this file).

use std::ffi::OsString;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Far above what any start or stop needs; only so that a bug fails a test instead of hanging
/// it.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// How to start one service; the same command starts it again after a kill.
#[derive(Clone, Debug)]
pub(crate) struct ServiceCommand {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(String, Option<String>)>,
    ready: String,
}

impl ServiceCommand {
    /// `cypherlink <args>`, ready once it prints a line containing `ready`.
    pub(crate) fn new<S: Into<OsString>>(args: impl IntoIterator<Item = S>, ready: &str) -> Self {
        ServiceCommand {
            program: env!("CARGO_BIN_EXE_cypherlink").into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            ready: ready.to_owned(),
        }
    }

    /// One more argument.
    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Another `cypherlink` binary than this build's (the bench compares builds this way).
    pub(crate) fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = program.into();
        self
    }

    /// Sets (`Some`) or removes (`None`) an environment variable of the process.
    pub(crate) fn env(mut self, name: &str, value: Option<&str>) -> Self {
        self.env.push((name.to_owned(), value.map(str::to_owned)));
        self
    }

    fn describe(&self) -> String {
        let args: Vec<_> = self.args.iter().map(|a| a.to_string_lossy()).collect();
        format!("cypherlink {}", args.join(" "))
    }

    /// Starts the process and waits for its ready line. It logs at `warn` to the test's stderr
    /// (`CRASH_TEST_LOG` sets another filter, to see what a failing run did).
    pub(crate) async fn start(&self) -> Service {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env(
                "RUST_LOG",
                std::env::var("CRASH_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (name, value) in &self.env {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        let name = self.describe();
        let mut child = command.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        // Read stdout all along, so the process never blocks on a full pipe.
        let (sender, lines) = mpsc::unbounded_channel();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut service = Service {
            child,
            lines,
            url: String::new(),
            name,
        };
        let line = service.wait_for_line(&self.ready).await;
        service.url = line
            .split(&self.ready)
            .nth(1)
            .and_then(|rest| {
                rest.split_whitespace()
                    .find(|w| w.starts_with("https://") || w.starts_with("http://"))
            })
            .unwrap_or_else(|| panic!("{}: no URL after {:?} in {line:?}", service.name, self.ready))
            .trim_end_matches([';', ',', ')'])
            .to_owned();
        service
    }
}

/// A running service; killed with SIGKILL when dropped.
pub(crate) struct Service {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    /// The first URL its ready line printed after the ready marker.
    pub url: String,
    name: String,
}

impl Service {
    /// Waits for the next line on its stdout containing `needle` and returns it.
    pub(crate) async fn wait_for_line(&mut self, needle: &str) -> String {
        let name = &self.name;
        tokio::time::timeout(PATIENCE, async {
            while let Some(line) = self.lines.recv().await {
                if line.contains(needle) {
                    return line;
                }
            }
            panic!("{name} exited before printing {needle:?}");
        })
        .await
        .unwrap_or_else(|_| panic!("{name} did not print {needle:?} within {PATIENCE:?}"))
    }

    /// The process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGKILL: no chance to flush, finish a request or say goodbye.
    pub(crate) async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL");
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} did not die", self.name))
            .expect("wait");
        assert!(!status.success(), "{} was killed, not exited", self.name);
    }
}
