"""Pure JAX + NumPy: networks, linearization, empirical and analytic kernels, closed-form dynamics."""

from ntklab.core.activations import ACTIVATIONS, Activation, gaussian_expectations, get_activation
from ntklab.core.analytic import analytic_kernels, float_dtype, make_kernel_fn
from ntklab.core.data import PRESETS, Dataset, make_dataset
from ntklab.core.empirical import empirical_ntk, empirical_ntk_jacobian, linearize
from ntklab.core.network import (
    ARCHITECTURES,
    TRAINABLE,
    MLPSpec,
    count_params,
    dense_weights,
    hidden_preactivations,
    init_params,
    kernel_limit,
    learning_rate_scale,
    make_apply_fn,
    make_mlp,
    resolved_branch_scale,
    trainable_mask,
)
from ntklab.core.spectra import Eigen
from ntklab.core.predict import (
    KernelSolveError,
    Posterior,
    critical_learning_rate,
    gp_posterior,
    gradient_descent_mse,
    ntk_ensemble_variance_inf,
)
from ntklab.core.stax import (
    ABC,
    KERNEL_PARAMETERIZATIONS,
    PARAMETERIZATIONS,
    Dense,
    Elementwise,
    Kernel,
    Residual,
    Serial,
    input_kernel,
)
from ntklab.core.training import (
    TrainState,
    half_mse,
    init_train_state,
    make_optimizer,
    make_train_chunk,
)

__all__ = [
    "ACTIVATIONS", "Activation", "Dataset", "Dense", "Eigen", "Elementwise", "Kernel", "MLPSpec", "PRESETS",
    "Serial", "TrainState", "analytic_kernels", "count_params", "critical_learning_rate",
    "empirical_ntk", "empirical_ntk_jacobian", "float_dtype", "gaussian_expectations", "get_activation",
    "gradient_descent_mse", "half_mse", "init_params", "init_train_state", "input_kernel",
    "linearize", "make_apply_fn", "make_dataset", "make_kernel_fn", "make_mlp", "make_optimizer",
    "make_train_chunk", "ntk_ensemble_variance_inf", "TRAINABLE", "dense_weights", "hidden_preactivations",
    "kernel_limit", "learning_rate_scale", "trainable_mask", "KernelSolveError", "Posterior", "gp_posterior",
    "ABC", "ARCHITECTURES", "KERNEL_PARAMETERIZATIONS", "PARAMETERIZATIONS", "Residual", "resolved_branch_scale",
]
