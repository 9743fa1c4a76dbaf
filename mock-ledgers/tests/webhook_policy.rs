//! Where webhooks may go (security review, issue 19): over real HTTP on 127.0.0.1, a webhook
//! aimed at an internal address is refused at registration with `webhook_url_forbidden` and
//! nothing is stored; a redirect is never followed; a host name that resolves to a denied
//! address is refused at delivery (nothing is sent) and retried like any failure; and a stored
//! webhook is checked again when the policy has tightened since it was registered.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{HttpResponse, web};
use htlc::{Clock, Fulfillment};
use mock_ledgers::config::{LedgerConfigFile, WebhookSection, fixtures};
use mock_ledgers::server::webhooks::policy::{AllowEntry, MAX_URL_LEN, Scheme};
use plugins::{AccountId, EventCursor, LedgerPlugin, PluginError, PrepareTransfer, TransferId};

use common::Ledger;

/// A local HTTP server that counts requests and answers 200, or 307 to `redirect_to`.
struct Receiver {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    handle: actix_web::dev::ServerHandle,
}

#[derive(Clone)]
struct Answer {
    hits: Arc<AtomicUsize>,
    redirect_to: Option<String>,
}

async fn answer(state: web::Data<Answer>) -> HttpResponse {
    state.hits.fetch_add(1, Ordering::SeqCst);
    match &state.redirect_to {
        Some(location) => HttpResponse::TemporaryRedirect()
            .insert_header(("Location", location.as_str()))
            .finish(),
        None => HttpResponse::Ok().finish(),
    }
}

impl Receiver {
    async fn start(redirect_to: Option<String>) -> Receiver {
        let hits = Arc::new(AtomicUsize::new(0));
        let data = web::Data::new(Answer {
            hits: hits.clone(),
            redirect_to,
        });
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver { addr, hits, handle }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The fixture's webhook timing with the given policy.
fn policy(f: &mut LedgerConfigFile, schemes: &[Scheme], allow: &[&str]) {
    f.webhooks.schemes = schemes.to_vec();
    f.webhooks.allow = allow.iter().map(|a| a.parse::<AllowEntry>().unwrap()).collect();
}

/// An event the clearing bank sees: bank-a prepares a transfer to it.
async fn make_event(l: &Ledger) {
    let f = Fulfillment::from_bytes([3; 32]);
    l.plugin("bank-a-k1")
        .await
        .prepare(PrepareTransfer {
            id: TransferId::random(),
            from: AccountId::new("bank-a").unwrap(),
            to: AccountId::new("clearing-bank").unwrap(),
            amount: 10,
            condition: f.condition(),
            expires_at: l.clock.now().checked_add_millis(60_000).unwrap(),
            memo: vec![],
        })
        .await
        .unwrap();
}

/// `ledger_webhook_deliveries_total{result=...}` as the ledger reports it (0 if absent).
async fn deliveries(l: &Ledger, result: &str) -> u64 {
    let text = plugins::client::http_client(std::time::Duration::from_secs(10))
        .get(format!("{}/metrics", l.ledger.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = format!("result=\"{result}\"");
    text.lines()
        .find(|line| line.starts_with("ledger_webhook_deliveries_total{") && line.contains(&label))
        .map(|line| line.rsplit(' ').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_default_policy_refuses_internal_destinations_at_registration_and_stores_nothing() {
    let l = Ledger::start_with(fixtures::BANK, |f| f.webhooks = WebhookSection::default()).await;

    // The finding's own request, as a bank's engineer would see it on the wire.
    let body = br#"{"url":"https://127.0.0.1:7200/v1/admin/corridors"}"#;
    let (status, content_type, problem) = l
        .send(
            "clearing-bank-k1",
            "POST",
            "/v1/webhooks",
            body,
            &[("Idempotency-Key", "hook-1")],
        )
        .await;
    assert_eq!(
        (status, content_type.as_str(), problem["code"].as_str()),
        (422, "application/problem+json", Some("webhook_url_forbidden")),
        "{problem}"
    );
    assert_eq!(problem["type"], "urn:cypherlink:problem:webhook_url_forbidden");
    let reason = problem["reason"].as_str().unwrap();
    assert!(
        reason.contains("127.0.0.1 is an internal address (loopback)"),
        "{reason}"
    );

    let cb = l.plugin("clearing-bank-k1").await;
    assert_eq!(cb.webhook().await.unwrap(), None, "nothing stored");

    let refused = [
        (
            "http://127.0.0.1:7200/v1/admin/corridors",
            "scheme \"http\" is not allowed",
        ),
        (
            "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "169.254.169.254 is an internal address (link-local)",
        ),
        (
            "https://[::ffff:169.254.169.254]/latest/meta-data/",
            "(link-local)",
        ),
        ("https://[fd00:ec2::254]/latest/meta-data/", "(private)"),
        ("https://[::1]:7200/v1/admin/corridors", "(loopback)"),
        (
            "https://2130706433:7200/v1/admin/corridors",
            "127.0.0.1 is an internal address",
        ),
        ("https://10.1.2.3/hooks", "(private)"),
        ("https://hooks:secret@hooks.bank-a.example/x", "credentials"),
    ];
    for (url, why) in refused {
        match cb.register_webhook(url, None).await {
            Err(PluginError::WebhookUrlForbidden { reason }) => {
                assert!(reason.contains(why), "{url}: {reason} should say {why:?}")
            }
            other => panic!("{url}: {other:?}"),
        }
        assert_eq!(cb.webhook().await.unwrap(), None, "{url}: nothing stored");
    }
    let long = format!("https://hooks.bank-a.example/{}", "a".repeat(MAX_URL_LEN));
    match cb.register_webhook(&long, None).await {
        Err(PluginError::Malformed { reason }) => {
            assert!(reason.contains("longer than 2048 bytes"), "{reason}")
        }
        other => panic!("{other:?}"),
    }

    // A public destination is registered (as parsed); a later refused attempt leaves it be.
    let hook = cb
        .register_webhook("HTTPS://Hooks.Bank-A.Example/cypherlink", None)
        .await
        .unwrap();
    assert_eq!(hook.url, "https://hooks.bank-a.example/cypherlink");
    let refused = cb
        .register_webhook("https://169.254.169.254/latest/meta-data/", None)
        .await;
    assert!(
        matches!(refused, Err(PluginError::WebhookUrlForbidden { .. })),
        "{refused:?}"
    );
    assert_eq!(cb.webhook().await.unwrap(), Some(hook));
    l.ledger.shutdown().await;
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_counts_as_a_failed_delivery() {
    // The fixture allows http to loopback, so both servers are valid destinations.
    let l = Ledger::start(fixtures::BANK).await;
    let target = Receiver::start(None).await;
    let redirecting = Receiver::start(Some(format!("http://{}/elsewhere", target.addr))).await;
    let cb = l.plugin("clearing-bank-k1").await;
    cb.register_webhook(&format!("http://{}/hook", redirecting.addr), None)
        .await
        .unwrap();
    make_event(&l).await;

    l.ledger.deliver_webhooks_now().await;
    assert_eq!(
        (redirecting.hits(), target.hits()),
        (1, 0),
        "the 307 was not followed"
    );
    let state = cb.webhook().await.unwrap().unwrap();
    assert_eq!(state.attempts, 1);
    assert_eq!(state.delivered_through, EventCursor::START, "not delivered");
    let error = state.last_error.unwrap();
    assert!(
        error.contains("307") && error.contains("redirects are not followed"),
        "{error}"
    );
    assert_eq!(deliveries(&l, "failed").await, 1);

    // The redirect's target does work when registered itself: its zero above means something.
    cb.register_webhook(&format!("http://{}/hook", target.addr), Some(EventCursor::START))
        .await
        .unwrap();
    l.ledger.deliver_webhooks_now().await;
    assert_eq!((redirecting.hits(), target.hits()), (1, 1));
    assert!(cb.webhook().await.unwrap().unwrap().delivered_through > EventCursor::START);
    target.stop().await;
    redirecting.stop().await;
    l.ledger.shutdown().await;
}

#[tokio::test]
async fn a_host_name_resolving_to_a_denied_address_is_refused_at_delivery_and_retried() {
    let receiver = Receiver::start(None).await;
    let port = receiver.addr.port();
    // Plain http is allowed, and one loopback address other than the receiver's.
    let l = Ledger::start_with(fixtures::BANK, |f| policy(f, &[Scheme::Http], &["127.0.0.2"])).await;
    let cb = l.plugin("clearing-bank-k1").await;

    // The literal is judged at registration...
    let literal = cb
        .register_webhook(&format!("http://127.0.0.1:{port}/hook"), None)
        .await;
    assert!(
        matches!(&literal, Err(PluginError::WebhookUrlForbidden { reason }) if reason.contains("(loopback)")),
        "{literal:?}"
    );
    // ... a name only once it is resolved, at delivery.
    cb.register_webhook(&format!("http://localhost:{port}/hook"), None)
        .await
        .unwrap();
    make_event(&l).await;
    l.ledger.deliver_webhooks_now().await;
    assert_eq!(receiver.hits(), 0, "nothing sent to what localhost resolves to");
    let state = cb.webhook().await.unwrap().unwrap();
    assert_eq!(state.attempts, 1);
    assert_eq!(
        state.next_attempt_at,
        l.clock.now().checked_add_millis(1_000),
        "retried with the usual backoff"
    );
    let error = state.last_error.unwrap();
    assert!(
        error.contains("refused by the ledger's webhook policy")
            && error.contains("localhost resolves to an address this ledger does not deliver to"),
        "{error}"
    );
    assert_eq!(
        (deliveries(&l, "refused").await, deliveries(&l, "failed").await),
        (1, 0)
    );

    l.clock.advance_millis(1_000);
    l.ledger.deliver_webhooks_now().await;
    let state = cb.webhook().await.unwrap().unwrap();
    assert_eq!(
        (state.attempts, receiver.hits()),
        (2, 0),
        "retried, refused again"
    );
    assert_eq!(deliveries(&l, "refused").await, 2);
    l.ledger.shutdown().await;

    // The same name is delivered to once the policy allows what it resolves to, by address
    // or by name: the refusal above is the policy's, not a failure to resolve or connect.
    let by_address: &[&str] = &["127.0.0.0/8", "::1"];
    let by_name: &[&str] = &["localhost"];
    for allow in [by_address, by_name] {
        let l = Ledger::start_with(fixtures::BANK, |f| policy(f, &[Scheme::Http], allow)).await;
        let cb = l.plugin("clearing-bank-k1").await;
        cb.register_webhook(&format!("http://localhost:{port}/hook"), None)
            .await
            .unwrap();
        let before = receiver.hits();
        make_event(&l).await;
        l.ledger.deliver_webhooks_now().await;
        assert_eq!(receiver.hits(), before + 1, "{allow:?}");
        let state = cb.webhook().await.unwrap().unwrap();
        assert_eq!((state.attempts, state.last_error), (0, None), "{allow:?}");
        assert_eq!(deliveries(&l, "ok").await, 1, "{allow:?}");
        l.ledger.shutdown().await;
    }
    receiver.stop().await;
}

#[tokio::test]
async fn a_stored_webhook_is_checked_again_when_the_policy_has_tightened() {
    let receiver = Receiver::start(None).await;
    let l = Ledger::start(fixtures::BANK).await;
    let cb = l.plugin("clearing-bank-k1").await;
    cb.register_webhook(&format!("http://{}/hook", receiver.addr), None)
        .await
        .unwrap();

    // The operator closes loopback; the registration stays in the database.
    let l = l
        .restarted_with(0, |c| {
            c.webhooks.schemes = vec![Scheme::Http];
            c.webhooks.allow = Vec::new();
        })
        .await;
    make_event(&l).await;
    l.ledger.deliver_webhooks_now().await;
    assert_eq!(receiver.hits(), 0, "an IP literal is checked before each attempt");
    let cb = l.plugin("clearing-bank-k1").await;
    let state = cb.webhook().await.unwrap().unwrap();
    assert_eq!(state.attempts, 1);
    let error = state.last_error.unwrap();
    assert!(
        error.contains("127.0.0.1 is an internal address (loopback)"),
        "{error}"
    );
    assert_eq!(deliveries(&l, "refused").await, 1);
    l.ledger.shutdown().await;
    receiver.stop().await;
}
