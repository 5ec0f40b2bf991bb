//! Client cost: cloning a client allocates nothing; building a request allocates little. A
//! counting allocator, in a test binary of its own so no other test allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let out = f();
    (ALLOCATIONS.load(Ordering::Relaxed) - before, out)
}

#[test]
fn cloning_is_free_and_building_a_request_is_cheap() {
    let client = meta_business::Client::builder()
        .access_token("EAAB-token")
        .build()
        .unwrap();
    let (n, clone) = allocations_of(|| client.clone());
    assert_eq!(n, 0, "a clone is an Arc bump");
    let (n, handler) = allocations_of(|| clone.system_user("100000008899900"));
    assert!(n <= 2, "a handler: {n} allocations");
    let (n, request) = allocations_of(|| handler.get());
    assert!(n <= 8, "a request builder: {n} allocations");
    let (n, list) = allocations_of(|| {
        client
            .business("1234567890")
            .system_users()
            .list()
            .limit(100)
    });
    assert!(n <= 12, "a list request: {n} allocations");
    drop((request, list));
}
