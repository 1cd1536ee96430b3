"""Community resource and contribution registry for generative welfare."""

__version__ = "0.1.0"
