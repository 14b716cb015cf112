package server

import (
	"context"
	"time"
)

// gcInterval is how often expired rows are collected. Expired records are
// already refused by their readers; collection only bounds storage growth.
const gcInterval = 5 * time.Minute

// collectGarbage runs storage garbage collection every interval until ctx
// is cancelled.
func (s *Server) collectGarbage(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.collectOnce(ctx)
		}
	}
}

func (s *Server) collectOnce(ctx context.Context) {
	res, err := s.store.GarbageCollect(ctx, s.opts.Now())
	if err != nil {
		s.log.Error("garbage collection failed", "err", err)
		return
	}
	if n := res.Total(); n > 0 {
		s.log.Info("garbage collected expired records", "rows", n)
	}
}
