package usertoken

import (
	"context"
	"sync"
)

// keyedMutex is one mutex per key, taken with a context. The store lease
// alone cannot serialise callers in one process: AcquireLease lets a
// holder re-take its own lease, and every caller here is one holder.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
	// onWait, when set (tests), is called when a caller has to wait.
	onWait func()
}

type keyLock struct {
	ch   chan struct{} // holds one token while locked
	refs int
}

// lock takes key's lock, or gives up when ctx ends; unlock releases it.
func (k *keyedMutex) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
	unlock = func() { <-l.ch; release() }
	select {
	case l.ch <- struct{}{}:
		return unlock, nil
	default:
	}
	if k.onWait != nil {
		k.onWait()
	}
	select {
	case l.ch <- struct{}{}:
		return unlock, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
