//! Prometheus metrics: registering a service's counters and gauges under static names, and the
//! text exposition `GET /metrics` answers. Names are compile-time constants, so a name that
//! Prometheus refuses is a programming error, not a runtime condition.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// A counter registered in `registry`.
pub fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = registry.register(Box::new(c.clone()));
    c
}

/// A gauge registered in `registry`.
pub fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = registry.register(Box::new(g.clone()));
    g
}

/// A counter with one label registered in `registry`.
pub fn counter_vec(registry: &Registry, name: &str, help: &str, label: &str) -> IntCounterVec {
    let c =
        IntCounterVec::new(Opts::new(name, help), &[label]).unwrap_or_else(|e| panic!("metric {name}: {e}"));
    let _ = registry.register(Box::new(c.clone()));
    c
}

/// Everything in `registry` in the Prometheus text format.
pub fn render(registry: &Registry) -> String {
    TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_metrics_render() {
        let r = Registry::new();
        counter(&r, "things_total", "Things").inc_by(3);
        gauge(&r, "level", "Level").set(7);
        counter_vec(&r, "drops_total", "Drops", "reason")
            .with_label_values(&["late"])
            .inc();
        let text = render(&r);
        assert!(text.contains("things_total 3"), "{text}");
        assert!(text.contains("level 7"), "{text}");
        assert!(text.contains("drops_total{reason=\"late\"} 1"), "{text}");
    }
}
