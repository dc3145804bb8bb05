"""The fixed ids and scales of the product contract (docs/interfaces.md).

Everything here is part of the public interface: tests, users and other parts of
the project rely on these exact names. Content files are cross-checked against them.
"""

from __future__ import annotations

from typing import Final, Literal, TypeGuard

#: The seven interview phases, in interview order.
PHASES: Final[tuple[str, ...]] = (
    "clarify_requirements",
    "frame_problem",
    "data_preparation",
    "model_development",
    "evaluation",
    "deployment_serving",
    "monitoring",
)

#: The closing step that follows the seven phases.
WRAP_UP: Final = "wrap_up"

PHASE_TITLES: Final[dict[str, str]] = {
    "clarify_requirements": "Clarify requirements and business goal",
    "frame_problem": "Frame it as an ML problem",
    "data_preparation": "Data, labels and features",
    "model_development": "Model selection and training",
    "evaluation": "Offline and online evaluation",
    "deployment_serving": "Deployment and serving",
    "monitoring": "Monitoring and iteration",
}

#: Minutes per phase for each interview length. The 45-minute column is the contract's (docs/interfaces.md);
#: the 60-minute column scales it by 4/3 and rounds so the phases still add up to 60.
PHASE_MINUTES: Final[dict[Length, dict[str, int]]] = {
    45: {
        "clarify_requirements": 6,
        "frame_problem": 5,
        "data_preparation": 8,
        "model_development": 10,
        "evaluation": 6,
        "deployment_serving": 6,
        "monitoring": 4,
    },
    60: {
        "clarify_requirements": 8,
        "frame_problem": 7,
        "data_preparation": 11,
        "model_development": 13,
        "evaluation": 8,
        "deployment_serving": 8,
        "monitoring": 5,
    },
}

#: Every follow-up question in the knowledge base carries one of these topic ids.
TOPICS: Final[tuple[str, ...]] = (
    "business_objective",
    "scale_estimation",
    "latency_budget",
    "privacy",
    "fairness",
    "no_ml_baseline",
    "ml_objective",
    "class_imbalance",
    "sampling_bias",
    "position_bias",
    "label_noise",
    "delayed_labels",
    "data_leakage",
    "feature_engineering",
    "training_serving_skew",
    "cold_start",
    "negative_sampling",
    "model_selection",
    "calibration",
    "multi_stage_ranking",
    "offline_online_metrics",
    "ab_testing",
    "model_compression",
    "distribution_shift",
    "feedback_loop",
    "exploration_exploitation",
    "adversarial_actors",
    "retraining",
    "explainability",
)

#: Problem ids that must exist in the knowledge base (more are welcome).
REQUIRED_PROBLEMS: Final[tuple[str, ...]] = (
    "video_recommendation",
    "ad_click_prediction",
    "payment_fraud_detection",
    "harmful_content_detection",
    "visual_search",
    "news_feed_ranking",
    "people_you_may_know",
    "event_recommendation",
    "similar_listings",
    "video_search",
)

# The score scale, the verdicts and their rules live in agent.grading.scale.

#: The level the candidate targets; it moves the verdict bar (agent.grading.scale.LEVEL_SHIFT).
Level = Literal["junior", "senior", "staff"]
LEVELS: Final[tuple[Level, ...]] = ("junior", "senior", "staff")

#: Interview lengths in minutes: the columns of PHASE_MINUTES.
Length = Literal[45, 60]
LENGTHS: Final[tuple[Length, ...]] = (45, 60)


def is_level(value: object) -> TypeGuard[Level]:
    """True for one of LEVELS (for values from the command line, files and checkpoints)."""
    return value in LEVELS


def is_length(value: object) -> TypeGuard[Length]:
    """True for one of LENGTHS."""
    return value in LENGTHS
