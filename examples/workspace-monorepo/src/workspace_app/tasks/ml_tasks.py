"""ML tasks: plain Python functions, run by FlyteSharp in the `ml` environment."""

from lib_models.baseline import predict, train_mean_predictor


async def train(features: list[float], labels: list[float]) -> dict:
    """Train a simple model."""
    return train_mean_predictor(features, labels)


async def evaluate(model: dict, features: list[float]) -> float:
    """Evaluate the model on a set of features."""
    return predict(model, features)
