package replica

import "github.com/prometheus/client_golang/prometheus"

var (
	upDesc = prometheus.NewDesc("fupin_db_replica_up",
		"1 when the replica serves reads (answers, is a standby, lag within DATABASE_REPLICA_MAX_LAG), else 0 (/readyz names the state).", []string{"replica"}, nil)
	lagDesc = prometheus.NewDesc("fupin_db_replica_lag_seconds",
		"Seconds the replica is behind the primary at the last check, measured on WAL positions (0 on an idle primary when caught up).", []string{"replica"}, nil)
	readsDesc = prometheus.NewDesc("fupin_db_replica_reads_total",
		"Reads that tolerate lag, by who served them: a replica, or the primary when none could.", []string{"replica"}, nil)
)

// Describe and Collect make the Set a Prometheus collector: state, lag and reads of each replica.
func (s *Set) Describe(ch chan<- *prometheus.Desc) {
	ch <- upDesc
	ch <- lagDesc
	ch <- readsDesc
}

// Collect reports the state of the last check (no query at scrape time).
func (s *Set) Collect(ch chan<- prometheus.Metric) {
	for _, st := range s.Statuses() {
		up := 0.0
		if st.State == StateOK {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up, st.Name)
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, st.LagSeconds, st.Name)
	}
	replicas, primary := s.Reads()
	for name, n := range replicas {
		ch <- prometheus.MustNewConstMetric(readsDesc, prometheus.CounterValue, float64(n), name)
	}
	ch <- prometheus.MustNewConstMetric(readsDesc, prometheus.CounterValue, float64(primary), "primary")
}
