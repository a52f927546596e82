//! Auto-paging: a `Stream` of every item of a list, fetching pages as it is consumed.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{self, Stream};
use rtk_api::Paging;

use crate::error::Error;
use crate::params::ListParams;

/// The page size the API uses when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// A stream of the items of every page; the first error ends it.
pub type Items<T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send + 'static>>;

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<(Vec<T>, Option<Paging>), Error>> + Send>>;

struct State<P, T> {
    fetch: Arc<dyn Fn(P) -> PageFuture<T> + Send + Sync>,
    params: P,
    next: Option<u32>,
    buffer: VecDeque<T>,
}

/// Whether there is a page after `page_no`, which held `len` items.
pub(crate) fn has_next(paging: Option<&Paging>, len: usize, per_page: u32) -> bool {
    if len == 0 {
        return false;
    }
    match paging {
        Some(p) => p.end_offset > 0 && p.end_offset < p.total_count,
        // No paging (some endpoints of some API generations): a full page may have more.
        None => len as u64 >= u64::from(per_page.max(1)),
    }
}

/// Streams every item from the page `params` names (page 1 by default) to the last.
pub(crate) fn paginate<P, T, F, Fut>(params: P, fetch: F) -> Items<T>
where
    P: ListParams,
    T: Send + 'static,
    F: Fn(P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(Vec<T>, Option<Paging>), Error>> + Send + 'static,
{
    let first = params.page_no().unwrap_or(1).max(1);
    let state = State {
        fetch: Arc::new(move |p| Box::pin(fetch(p)) as PageFuture<T>),
        params,
        next: Some(first),
        buffer: VecDeque::new(),
    };
    Box::pin(stream::try_unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.buffer.pop_front() {
                return Ok(Some((item, st)));
            }
            let Some(page) = st.next.take() else { return Ok(None) };
            st.params.set_page_no(page);
            let (items, paging) = (st.fetch)(st.params.clone()).await?;
            let per_page = st.params.per_page().unwrap_or(DEFAULT_PER_PAGE);
            if has_next(paging.as_ref(), items.len(), per_page) {
                st.next = Some(page + 1);
            }
            st.buffer.extend(items);
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_there_is_a_next_page() {
        let p = |t, s, e| Paging { total_count: t, start_offset: s, end_offset: e };
        assert!(has_next(Some(&p(45, 1, 20)), 20, 20));
        assert!(!has_next(Some(&p(45, 41, 45)), 5, 20));
        assert!(!has_next(Some(&p(40, 21, 40)), 20, 20));
        assert!(!has_next(Some(&p(45, 0, 0)), 0, 20));
        assert!(has_next(None, 20, 20));
        assert!(!has_next(None, 7, 20));
        assert!(!has_next(None, 0, 20));
    }
}
