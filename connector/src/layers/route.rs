//! Routing: the longest configured prefix of the destination address picks the next ledger, and
//! the next hop's account on it — either a fixed account (a peer connector) or the address
//! segment right after the prefix (a bank or wallet on that ledger).

use htlc::{Address, ErrorCode};
use plugins::AccountId;
use serde::{Deserialize, Serialize};

use super::Rejection;
use crate::LedgerId;

/// Who receives the outgoing escrow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextHop {
    /// The address segment after the prefix names the account: `test.ecny.bank-b.x` -> `bank-b`.
    AccountFromAddress,
    /// Always this account (e.g. the next connector's account on that ledger).
    Account(AccountId),
}

/// One routing table entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Address prefix, matched on whole segments.
    pub prefix: String,
    /// Ledger to forward on.
    pub ledger: LedgerId,
    /// Account that receives on that ledger.
    pub next_hop: NextHop,
}

/// Where a packet goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The ledger.
    pub ledger: LedgerId,
    /// The receiving account on it.
    pub account: AccountId,
    /// The route's prefix that matched.
    pub prefix: String,
}

/// Routes, searched by longest prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingTable {
    routes: Vec<Route>,
}

impl RoutingTable {
    /// A table of `routes`; a later route with the same prefix replaces an earlier one.
    pub fn new(routes: impl IntoIterator<Item = Route>) -> Self {
        let mut table = RoutingTable::default();
        for route in routes {
            table.insert(route);
        }
        table
    }

    /// Adds or replaces the route for `route.prefix`.
    pub fn insert(&mut self, route: Route) {
        self.routes.retain(|r| r.prefix != route.prefix);
        self.routes.push(route);
        self.routes.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    }

    /// Removes the route for `prefix`; true if there was one.
    pub fn remove(&mut self, prefix: &str) -> bool {
        let before = self.routes.len();
        self.routes.retain(|r| r.prefix != prefix);
        self.routes.len() != before
    }

    /// Every route, sorted by prefix.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The next ledger and account for `destination`, or F02 Unreachable.
    pub fn resolve(&self, destination: &Address) -> Result<Resolved, Rejection> {
        let unreachable =
            |why: &str| Rejection::new(ErrorCode::F02_UNREACHABLE, format!("{destination}: {why}"));
        let (index, _) = destination
            .longest_prefix(self.routes.iter().map(|r| &r.prefix))
            .ok_or_else(|| unreachable("no route"))?;
        let route = &self.routes[index];
        let account = match &route.next_hop {
            NextHop::Account(account) => account.clone(),
            NextHop::AccountFromAddress => {
                let rest = destination.as_str()[route.prefix.len()..].trim_start_matches('.');
                let segment = rest.split('.').next().filter(|s| !s.is_empty());
                let segment =
                    segment.ok_or_else(|| unreachable("no account segment after the ledger prefix"))?;
                AccountId::new(segment).map_err(|_| unreachable("invalid account segment"))?
            }
        };
        Ok(Resolved {
            ledger: route.ledger.clone(),
            account,
            prefix: route.prefix.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RoutingTable {
        RoutingTable::new([
            Route {
                prefix: "test.ecny".into(),
                ledger: LedgerId::new("e-cny"),
                next_hop: NextHop::AccountFromAddress,
            },
            Route {
                prefix: "test.ecny.partner".into(),
                ledger: LedgerId::new("e-cny"),
                next_hop: NextHop::Account(AccountId::new("partner-connector").unwrap()),
            },
            Route {
                prefix: "test.de".into(),
                ledger: LedgerId::new("digital-euro"),
                next_hop: NextHop::AccountFromAddress,
            },
        ])
    }

    fn resolve(dest: &str) -> Result<Resolved, Rejection> {
        table().resolve(&Address::new(dest).unwrap())
    }

    #[test]
    fn longest_prefix_wins() {
        let r = resolve("test.ecny.bank-b.8f2c").unwrap();
        assert_eq!((r.ledger.as_str(), r.account.as_str()), ("e-cny", "bank-b"));
        let r = resolve("test.ecny.partner.alice").unwrap();
        assert_eq!(r.account.as_str(), "partner-connector");
        let r = resolve("test.ecny.partnerx.alice").unwrap();
        assert_eq!(r.account.as_str(), "partnerx", "whole segments only");
    }

    #[test]
    fn unknown_or_incomplete_destinations_are_unreachable() {
        for dest in ["test.other.bank", "test.ecny", "g.ecny.bank-b"] {
            assert_eq!(
                resolve(dest).unwrap_err().code,
                ErrorCode::F02_UNREACHABLE,
                "{dest}"
            );
        }
    }

    #[test]
    fn routes_can_be_replaced_and_removed() {
        let mut t = table();
        t.insert(Route {
            prefix: "test.de".into(),
            ledger: LedgerId::new("other"),
            next_hop: NextHop::AccountFromAddress,
        });
        assert_eq!(t.routes().len(), 3);
        assert!(t.remove("test.de"));
        assert!(!t.remove("test.de"));
        assert!(t.resolve(&Address::new("test.de.x").unwrap()).is_err());
    }
}
