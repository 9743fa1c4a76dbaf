//! Prometheus metrics of a connector, served at `/metrics` by the operator API.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// The connector's metrics and the registry they live in.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Finished payments by outcome (`fulfilled`, `rejected`, `lost`) and ILP code.
    pub payments: IntCounterVec,
    /// Minor units moved through the connector, by ledger and direction (`in`, `out`).
    pub amounts: IntCounterVec,
    /// Fees earned, incoming minor units, by ledger.
    pub fees: IntCounterVec,
    /// Payments not yet final.
    pub in_flight: IntGauge,
    /// Seconds from incoming escrow seen to final state.
    pub latency: Histogram,
    /// Ledger requests that failed, by ledger and error code.
    pub ledger_errors: IntCounterVec,
    /// Last seen available balance of the connector's account, by ledger.
    pub liquidity: IntGaugeVec,
    /// Times a ledger account went below its liquidity floor.
    pub liquidity_alerts: IntCounterVec,
}

fn must<T>(result: prometheus::Result<T>) -> T {
    // Metric definitions are static; a failure is a programming error caught by the tests.
    result.unwrap_or_else(|e| panic!("invalid metric definition: {e}"))
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = must(IntCounterVec::new(Opts::new(name, help), labels));
            must(registry.register(Box::new(c.clone())));
            c
        };
        let payments = counter(
            "cypherlink_payments_total",
            "Finished payments by outcome and ILP code",
            &["outcome", "code"],
        );
        let amounts = counter(
            "cypherlink_amount_minor_units_total",
            "Minor units moved through the connector",
            &["ledger", "direction"],
        );
        let fees = counter("cypherlink_fees_minor_units_total", "Fees earned", &["ledger"]);
        let ledger_errors = counter(
            "cypherlink_ledger_errors_total",
            "Failed ledger requests",
            &["ledger", "code"],
        );
        let liquidity_alerts = counter(
            "cypherlink_liquidity_alerts_total",
            "Times an account went below its liquidity floor",
            &["ledger"],
        );
        let in_flight = must(IntGauge::new(
            "cypherlink_payments_in_flight",
            "Payments not yet final",
        ));
        must(registry.register(Box::new(in_flight.clone())));
        let liquidity = must(IntGaugeVec::new(
            Opts::new("cypherlink_liquidity_minor_units", "Available balance per ledger"),
            &["ledger"],
        ));
        must(registry.register(Box::new(liquidity.clone())));
        let latency = must(Histogram::with_opts(
            HistogramOpts::new(
                "cypherlink_payment_duration_seconds",
                "From incoming escrow seen to final state",
            )
            .buckets(vec![
                0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0,
            ]),
        ));
        must(registry.register(Box::new(latency.clone())));
        Metrics {
            registry,
            payments,
            amounts,
            fees,
            in_flight,
            latency,
            ledger_errors,
            liquidity,
            liquidity_alerts,
        }
    }

    /// Sets the gauge of payments not yet final to `count`.
    pub fn set_in_flight(&self, count: usize) {
        // A gauge is an i64; a count past it cannot be held in memory anyway.
        self.in_flight.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        plumbing::metrics::render(&self.registry)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let m = Metrics::new();
        m.payments.with_label_values(&["fulfilled", ""]).inc();
        m.in_flight.set(3);
        m.latency.observe(0.012);
        let text = m.render();
        for name in [
            "cypherlink_payments_total",
            "cypherlink_payments_in_flight 3",
            "cypherlink_payment_duration_seconds_bucket",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
}
