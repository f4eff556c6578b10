"""Per-feed video analytics: sources, detection, tracking, description → Sightings."""
