"""Writing an op as a torch.autograd.Function, then training with it (written for this repository).

`ScaledSquare` computes y = a * x**2 with a hand-written backward: dy/dx = 2 a x and
dy/da = sum(x**2 * g), saving its inputs with ctx.save_for_backward and reading them back as
ctx.saved_tensors.  `LeakyClamp` saves a mask and a Python number on ctx.  The script checks
both backward passes against torch.autograd.gradcheck in float64, then fits a small
regression through them and prints the loss before and after.

Run it with real PyTorch (`python autograd_function.py`) or on this engine
(`python -m minitorch_cnn.as_torch autograd_function.py`).
"""
import torch


class ScaledSquare(torch.autograd.Function):
    """y = a * x**2, a a scalar tensor."""

    @staticmethod
    def forward(ctx, x, a):
        ctx.save_for_backward(x, a)
        return a * x * x

    @staticmethod
    def backward(ctx, grad_output):
        x, a = ctx.saved_tensors
        grad_x = grad_a = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_output * 2 * a * x
        if ctx.needs_input_grad[1]:
            grad_a = (grad_output * x * x).sum().reshape(a.shape)
        return grad_x, grad_a


class LeakyClamp(torch.autograd.Function):
    """y = x where x >= 0, slope * x elsewhere; the slope is a Python number kept on ctx."""

    @staticmethod
    def forward(ctx, x, slope):
        positive = x >= 0
        ctx.save_for_backward(positive)
        ctx.slope = slope
        return torch.where(positive, x, x * slope)

    @staticmethod
    def backward(ctx, grad_output):
        (positive,) = ctx.saved_tensors
        return torch.where(positive, grad_output, grad_output * ctx.slope), None


def check_gradients():
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    ok_square = torch.autograd.gradcheck(ScaledSquare.apply, (x, a))
    shifted = (torch.rand(5, 3, dtype=torch.float64) + 0.1) * torch.tensor([[1.0, -1.0, 1.0]], dtype=torch.float64)
    shifted.requires_grad_(True)
    ok_clamp = torch.autograd.gradcheck(lambda t: LeakyClamp.apply(t, 0.1), (shifted,))
    print(f"gradcheck ScaledSquare: {ok_square}, LeakyClamp: {ok_clamp}")


def fit():
    torch.manual_seed(0)
    x = torch.randn(256, 1)
    y = 1.5 * x * x - 0.5 * x               # the target curve
    a = torch.zeros((), requires_grad=True)
    hidden = torch.nn.Linear(1, 16)
    out = torch.nn.Linear(16, 1)
    params = [a, *hidden.parameters(), *out.parameters()]
    optimizer = torch.optim.Adam(params, lr=0.05)
    losses = []
    for step in range(300):
        optimizer.zero_grad()
        prediction = ScaledSquare.apply(x, a) + out(LeakyClamp.apply(hidden(x), 0.01))
        loss = torch.nn.functional.mse_loss(prediction, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"loss first: {losses[0]:.4f}  last: {losses[-1]:.4f}  a: {a.item():.3f}")


if __name__ == "__main__":
    check_gradients()
    fit()
