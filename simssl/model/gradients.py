"""Equivariant outputs as gradients of an invariant scalar (arXiv 2405.05722).

For an invariant per-particle scalar z_i (the encoder's ``gradient_head`` applied to its
embedding), the bond gradients g_ij = dz_i/dr_ij rotate with the bonds, so

* u_i = sum_j g_ij                 is a vector:            u(R r) = R u(r)
* T_i = sum_j r_ij (x) g_ij         is a symmetric tensor:  T(R r) = R T(r) R^T

equivariant by construction, with no extra layers. (T is symmetric in exact arithmetic because z
is rotation invariant; the rounding-level antisymmetric part is removed.) All quantities are in
the encoder's unit-free bond units. Since z_i depends only on particle i's bonds, one backward
pass over the batch sum gives every particle's gradient.
"""

from __future__ import annotations

import torch


def equivariant_outputs(model, bonds, mask, center_types, neighbor_types, create_graph: bool | None = None) -> dict:
    """{'scalars': z (B, n), 'vectors': u (B, n, 3), 'tensors': T (B, n, 3, 3)} for the model's n scalar heads.

    ``create_graph`` (default: ``model.training``) keeps the graph so losses on z, u and T can be
    backpropagated to the weights; without it the outputs are detached.

    Parameters
    ----------
    model : Encoder
        An encoder with a gradient head (``EncoderConfig.gradient_outputs = n > 0``).
    bonds : torch.Tensor
        Unit-free bond vectors, shape (B, k, 3), floating point.
    mask : torch.Tensor
        Real (not padded) bonds, shape (B, k) bool.
    center_types : torch.Tensor
        Type ids of the centers, shape (B,) integer.
    neighbor_types : torch.Tensor
        Type ids of the neighbors, shape (B, k) integer (-1 on padding).
    create_graph : bool or None
        Keep the autograd graph (default: ``model.training``).

    Returns
    -------
    dict of str to torch.Tensor
        ``'scalars'`` (B, n), ``'vectors'`` (B, n, 3) and ``'tensors'`` (B, n, 3, 3), in the bonds' dtype.

    Raises
    ------
    ValueError
        If the model has no gradient head.
    """
    if model.gradient_head is None:
        raise ValueError("this encoder has no gradient head (EncoderConfig.gradient_outputs = 0)")
    if create_graph is None:
        create_graph = model.training
    with torch.enable_grad():
        if not bonds.requires_grad:
            bonds = bonds.detach().requires_grad_(True)
        scalars = model.gradient_head(model(bonds, mask, center_types, neighbor_types))
        grads = torch.stack(
            [
                torch.autograd.grad(scalars[:, head].sum(), bonds, create_graph=create_graph, retain_graph=True)[0]
                for head in range(scalars.shape[1])  # a few heads, each one backward pass over the whole batch
            ],
            dim=1,
        )
    grads = grads * mask[:, None, :, None]
    tensors = torch.einsum("bkx,bnky->bnxy", bonds, grads)
    outputs = {"scalars": scalars, "vectors": grads.sum(2), "tensors": 0.5 * (tensors + tensors.transpose(-1, -2))}
    return outputs if create_graph else {name: value.detach() for name, value in outputs.items()}
