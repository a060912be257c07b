"""Lineage questions over ML Metadata (what produced a pushed model, what a span touched,
what each run did), their renderings and the `lineage` command.

A notebook or a scheduler asks the same questions as `python -m pipeline lineage`:

    from pipeline.lineage.downstream import run_history, span_lineage
    from pipeline.lineage.model import model_lineage
    store = pipeline.metadata.store.open_store(config, create=False)
    model_lineage(store, config.name, latest=True)
    span_lineage(store, config.name, 3)
    run_history(store, config.name)
"""
