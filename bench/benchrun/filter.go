package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"pstrace/tracer"
)

// filterResult is the records that crossed the ring buffer during a mixed
// workload: one storm that the filter should pass and one it should not.
type filterResult struct {
	Name                 string
	Wanted, Unwanted     int // records about each storm's processes
	Other                int // records about the rest of the host
	Lost                 uint64
	WantedSpawns, Spawns int
}

func (f filterResult) total() int { return f.Wanted + f.Unwanted + f.Other }

// filterSpawns is the size of each of the two storms.
const filterSpawns = 300

func measureFilter(storm string) ([]filterResult, error) {
	cases := []struct {
		name   string
		filter tracer.Filter
		follow bool
	}{
		{name: "no filter"},
		{name: "--pid (followed subtree)", filter: tracer.Filter{Follow: true}, follow: true},
		{name: "--comm true", filter: tracer.Filter{Comms: []string{"true"}}},
	}
	var out []filterResult
	for _, c := range cases {
		r, err := filterRun(storm, c.name, c.filter, c.follow)
		if err != nil {
			return nil, fmt.Errorf("filter %s: %w", c.name, err)
		}
		progress("filter %-26s records %d (wanted storm %d, other storm %d, rest of host %d)",
			c.name, r.total(), r.Wanted, r.Unwanted, r.Other)
		out = append(out, r)
	}
	return out, nil
}

// filterRun traces, under one filter, a storm of /bin/true (the wanted one)
// next to a storm of /bin/false.
func filterRun(storm, name string, filter tracer.Filter, follow bool) (filterResult, error) {
	res := filterResult{Name: name}
	wanted, err := startGated(storm, "-n", fmt.Sprint(filterSpawns), "-path", "/bin/true")
	if err != nil {
		return res, err
	}
	unwanted, err := startGated(storm, "-n", fmt.Sprint(filterSpawns), "-path", "/bin/false")
	if err != nil {
		wanted.kill()
		return res, err
	}
	tr, err := tracer.Open(tracer.Options{Filter: filter})
	if err != nil {
		wanted.kill()
		unwanted.kill()
		return res, err
	}
	defer tr.Close()
	if follow {
		if err := tr.Follow(wanted.PID); err != nil {
			wanted.kill()
			unwanted.kill()
			return res, err
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ev tracer.Event
		for {
			err := tr.Read(ctx, &ev)
			switch {
			case err == nil && ev.Type == tracer.TypeLost:
				res.Lost += ev.LostCount
			case err == nil && (ev.PID == wanted.PID || ev.PPID == wanted.PID):
				res.Wanted++
			case err == nil && (ev.PID == unwanted.PID || ev.PPID == unwanted.PID):
				res.Unwanted++
			case err == nil:
				res.Other++
			case errors.Is(err, tracer.ErrDrained):
			case errors.Is(err, context.Canceled):
				return
			default:
				readErr = err
				return
			}
		}
	}()
	var errs []error
	for _, g := range []*gatedStorm{wanted, unwanted} {
		errs = append(errs, g.release())
	}
	for i, g := range []*gatedStorm{wanted, unwanted} {
		st, err := g.wait()
		errs = append(errs, err)
		res.Spawns += st.Spawns
		if i == 0 {
			res.WantedSpawns = st.Spawns
		}
	}
	time.Sleep(settle)
	cancel()
	wg.Wait()
	errs = append(errs, readErr)
	return res, errors.Join(errs...)
}
