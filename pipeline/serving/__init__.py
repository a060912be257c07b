"""Clients of a pushed model version: the SavedModel and the int8 TFLite predictors."""
