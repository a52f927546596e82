//! Admission limits: open connections per participant on this node, and messages per second
//! per connection.

use std::time::Instant;

use super::{RATE_BURST, RATE_PER_SEC};

/// Open connections per participant on this node, so one token cannot open connections
/// without end (each may chat at the rate limit).
#[derive(Debug, Default)]
pub struct Seats(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>);

/// One participant's connection, counted while it lives.
pub struct Seat {
    seats: Seats,
    participant: String,
}

impl Seats {
    /// A seat for `participant` unless it already holds `max`.
    pub fn take(&self, participant: &str, max: usize) -> Option<Seat> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(participant.to_string()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Seat { seats: Seats(self.0.clone()), participant: participant.to_string() })
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut m = self.seats.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.participant) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.participant);
            }
        }
    }
}

/// A token bucket on the connection's wall clock (not the session clock: it limits load).
pub(super) struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub(super) fn new() -> Self {
        Self { tokens: RATE_BURST, at: Instant::now() }
    }

    pub(super) fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * RATE_PER_SEC).min(RATE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
