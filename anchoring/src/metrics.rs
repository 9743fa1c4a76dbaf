//! Prometheus metrics of the service (served at `GET /metrics`).

use plumbing::metrics::counter;
use prometheus::{Histogram, HistogramOpts, IntCounter, Registry};

/// The service's metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Digests acknowledged.
    pub items_accepted: IntCounter,
    /// Batches whose anchor is final.
    pub batches_anchored: IntCounter,
    /// Seconds from a digest's acknowledgement to its batch's proof being stored.
    pub time_to_certificate: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let items_accepted = counter(
            &registry,
            "anchoring_items_accepted_total",
            "Digests acknowledged",
        );
        let batches_anchored = counter(
            &registry,
            "anchoring_batches_anchored_total",
            "Batches whose anchor transaction is final",
        );
        let time_to_certificate = Histogram::with_opts(
            HistogramOpts::new(
                "anchoring_time_to_certificate_seconds",
                "From a digest's acknowledgement to its certificate being available",
            )
            .buckets(vec![
                0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0, 10.0, 30.0,
            ]),
        )
        .unwrap_or_else(|_| unreachable!("static metric"));
        let _ = registry.register(Box::new(time_to_certificate.clone()));
        Metrics {
            registry,
            items_accepted,
            batches_anchored,
            time_to_certificate,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        plumbing::metrics::render(&self.registry)
    }
}
