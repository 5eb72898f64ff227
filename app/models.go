package app

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/models"
)

// loadModels loads and validates every file of models.files, so a missing
// or bad one stops the start with an error naming it. It returns nil and
// no topics when no model is configured (predictions off); otherwise the
// registry and the topic of the live prediction stream, to be created
// with the others.
func loadModels(cfg *config.Config, log *zap.Logger) (*models.Registry, []string, error) {
	if len(cfg.Models.Files) == 0 {
		return nil, nil, nil
	}
	specs := make([]models.Spec, len(cfg.Models.Files))
	for i, f := range cfg.Models.Files {
		specs[i] = models.Spec{Name: f.Name, Kind: f.Kind, Path: f.Path, Mode: f.Mode, Horizon: f.Horizon, Symbols: f.Symbols}
	}
	reg, err := models.NewRegistry(specs, cfg.Models.Window, log)
	if err != nil {
		return nil, nil, fmt.Errorf("models.files: %w", err)
	}
	return reg, []string{cfg.Models.Topic}, nil
}
