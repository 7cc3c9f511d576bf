"""Growth and plan advice (``pgcrisis capacity``): daily rollups of a recording
(:mod:`.rollups`, kept for years), forecasts of when each resource runs out with honest
intervals (:mod:`.forecast`), plans described in ``pgcrisis.toml`` judged against them, and the
fleet of many recordings in one central store."""
