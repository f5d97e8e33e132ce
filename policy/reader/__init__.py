"""The model reader: a local sentence model that reads every comment beside the rules
(the embedder and its artefacts; the heads and the combined verdict follow)."""
