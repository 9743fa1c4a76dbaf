//! Prometheus metrics of one ledger, served at `/metrics`.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// The ledger's metrics, in their own registry (several ledgers can run in one process).
pub struct Metrics {
    registry: Registry,
    /// Changes by operation and HTTP status.
    pub requests: IntCounterVec,
    /// Requests per group commit.
    pub batch_size: Histogram,
    /// Time to apply and commit one batch.
    pub commit_seconds: Histogram,
    /// Escrows waiting for fulfilment or expiry.
    pub live_escrows: IntGauge,
    /// Events appended to the log.
    pub events: IntCounter,
    /// Refused signatures by reason.
    pub auth_failures: IntCounterVec,
    /// Webhook delivery attempts by result.
    pub webhook_deliveries: IntCounterVec,
}

impl Metrics {
    /// Registers the metrics, labelled with the ledger id.
    pub fn new(ledger_id: &str) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(
            Some("ledger".into()),
            Some([("ledger_id".to_owned(), ledger_id.to_owned())].into()),
        )?;
        let requests = IntCounterVec::new(
            Opts::new("changes_total", "Change requests by operation and HTTP status"),
            &["op", "status"],
        )?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("batch_size", "Requests committed per SQLite transaction")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]),
        )?;
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new("batch_seconds", "Time to apply and commit one batch")
                .buckets(vec![0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5]),
        )?;
        let live_escrows = IntGauge::new("live_escrows", "Escrows waiting for fulfilment or expiry")?;
        let events = IntCounter::new("events_total", "Events appended to the log")?;
        let auth_failures = IntCounterVec::new(
            Opts::new("auth_failures_total", "Refused request signatures"),
            &["reason"],
        )?;
        let webhook_deliveries = IntCounterVec::new(
            Opts::new("webhook_deliveries_total", "Webhook delivery attempts"),
            &["result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(commit_seconds.clone()))?;
        registry.register(Box::new(live_escrows.clone()))?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(auth_failures.clone()))?;
        registry.register(Box::new(webhook_deliveries.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            batch_size,
            commit_seconds,
            live_escrows,
            events,
            auth_failures,
            webhook_deliveries,
        })
    }

    /// Sets the gauge of live escrows to `count`.
    pub fn set_live_escrows(&self, count: usize) {
        // A gauge is an i64; a count past it cannot be held in memory anyway.
        self.live_escrows.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        plumbing::metrics::render(&self.registry)
    }
}
