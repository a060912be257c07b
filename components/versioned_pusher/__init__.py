"""Pushes a blessed model (SavedModel and int8 TFLite) into a versioned serving folder."""
