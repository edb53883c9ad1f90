"""Full-batch gradient descent of the network and of its linearization, side by side.

Both start from the same θ0 and use the same optax optimizer; many steps run inside one compiled
call (``lax.scan``), so Python dispatch does not hold the GIL between steps.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

Array = jax.Array


class TrainState(NamedTuple):
    """Parameters and optimizer states of the network and of its linearization."""

    params: list
    lin_params: list
    opt_state: optax.OptState
    lin_opt_state: optax.OptState


def half_mse(f: Array, y: Array) -> Array:
    """The training loss ‖f − y‖²/(2n): the convention of the closed-form dynamics."""
    return 0.5 * jnp.mean((f - y) ** 2)


def make_optimizer(learning_rate: float) -> optax.GradientTransformation:
    """Plain full-batch gradient descent."""
    return optax.sgd(learning_rate)


def init_train_state(theta0, optimizer: optax.GradientTransformation) -> TrainState:
    return TrainState(theta0, theta0, optimizer.init(theta0), optimizer.init(theta0))


def make_train_chunk(apply_fn, optimizer: optax.GradientTransformation, n_steps: int):
    """Jitted ``chunk(state, theta0, x, y) -> (state, (loss, lin_loss))``: ``n_steps`` GD steps.

    ``loss`` and ``lin_loss`` (n_steps,) are the training losses ‖f − y‖²/(2n) before each step.
    The linearization f_lin(θ) = f(θ0) + J(θ0)(θ − θ0) is built once per call with
    ``jax.linearize``: each step then costs one JVP and its transpose.
    """

    @jax.jit
    def chunk(state: TrainState, theta0, x, y):
        f0, jvp = jax.linearize(lambda p: apply_fn(p, x), theta0)

        def lin_loss_fn(p):
            return half_mse(f0 + jvp(jax.tree_util.tree_map(jnp.subtract, p, theta0)), y)

        def loss_fn(p):
            return half_mse(apply_fn(p, x), y)

        def step(s: TrainState, _):
            loss, grads = jax.value_and_grad(loss_fn)(s.params)
            lin_loss, lin_grads = jax.value_and_grad(lin_loss_fn)(s.lin_params)
            updates, opt_state = optimizer.update(grads, s.opt_state, s.params)
            lin_updates, lin_opt_state = optimizer.update(lin_grads, s.lin_opt_state, s.lin_params)
            new = TrainState(
                optax.apply_updates(s.params, updates),
                optax.apply_updates(s.lin_params, lin_updates),
                opt_state,
                lin_opt_state,
            )
            return new, (loss, lin_loss)

        return jax.lax.scan(step, state, None, length=n_steps)

    return chunk
