"""A baseline model: always predicts the mean label (travels in the code bundle)."""


def train_mean_predictor(features: list[float], labels: list[float]) -> dict:
    """Fit the mean-label model; features only need to match labels in length."""
    if len(features) != len(labels):
        raise ValueError(f"features ({len(features)}) and labels ({len(labels)}) differ in length")
    if not labels:
        raise ValueError("cannot train on no labels")
    return {"kind": "mean", "mean": sum(labels) / len(labels), "n": len(labels)}


def predict(model: dict, features: list[float]) -> float:
    """Mean prediction over the given features (the same value for each)."""
    if model.get("kind") != "mean":
        raise ValueError(f"unknown model kind {model.get('kind')!r}")
    if not features:
        return 0.0
    return sum(model["mean"] for _ in features) / len(features)
