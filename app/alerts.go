package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/sinks/alert"
)

// networkAlerts builds the webhook and SNS publishers config asks for. The
// returned drain delivers what they still hold, until ctx ends; call it
// after the engine has stopped publishing.
func networkAlerts(ctx context.Context, cfg *config.Alerts, log *zap.Logger) (alert.Multi, func(context.Context) error, error) {
	var pubs alert.Multi
	var closers []func(context.Context) error
	drain := func(ctx context.Context) error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c(ctx))
		}
		return errors.Join(errs...)
	}
	onError := func(err error) { log.Error("alert delivery failed", zap.Error(err)) }
	if w := cfg.Webhook; w.URL != "" {
		p, err := alert.NewWebhook(alert.WebhookOptions{URL: w.URL, Slack: w.Slack, Secret: w.Secret.Reveal(),
			Timeout: w.Timeout, MaxAttempts: w.MaxAttempts, Queue: w.Queue, OnError: onError})
		if err != nil {
			return nil, nil, fmt.Errorf("alerts.webhook: %w", err)
		}
		pubs, closers = append(pubs, p), append(closers, p.Close)
	}
	if s := cfg.SNS; s.TopicARN != "" {
		p, err := alert.NewSNS(ctx, alert.SNSOptions{TopicARN: s.TopicARN, Region: s.Region, Endpoint: s.Endpoint,
			OnError: onError})
		if err != nil {
			_ = drain(ctx)
			return nil, nil, fmt.Errorf("alerts.sns: %w", err)
		}
		pubs, closers = append(pubs, p), append(closers, p.Close)
	}
	return pubs, drain, nil
}

// alertStats are the delivery counters of the network sinks among pubs,
// by the sink name /metrics labels them with (tickstream_alert_*{sink=…}):
// the config section each comes from.
func alertStats(pubs alert.Multi) map[string]*alert.Stats {
	m := map[string]*alert.Stats{}
	for _, p := range pubs {
		switch p := p.(type) {
		case *alert.Webhook:
			m["webhook"] = p.Stats()
		case *alert.SNS:
			m["sns"] = p.Stats()
		}
	}
	return m
}

// alertDrainTimeout bounds delivering queued alerts at shutdown; RunCommand
// exits hard 10 s after engine.shutdown_timeout, and the engine's flush
// comes first.
const alertDrainTimeout = 5 * time.Second
