"""The reference task's byte MLP in PyTorch (CPU, float32): the same shapes as Cairn's
(16 context bytes -> 32-d embeddings -> 512 -> 512 tanh -> 256 logits, 664,832 parameters),
timed on the same operations `cairn bench training` times. Prints one JSON object."""
import argparse
import json
import os
import time

import torch


def model():
    return torch.nn.Sequential(
        torch.nn.Embedding(256, 32), torch.nn.Flatten(),
        torch.nn.Linear(16 * 32, 512), torch.nn.Tanh(),
        torch.nn.Linear(512, 512), torch.nn.Tanh(),
        torch.nn.Linear(512, 256))


def rate(body, seconds):
    for _ in range(3):
        body()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        body()
        calls += 1
    return calls / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.manual_seed(0)
    net = model()
    params = sum(p.numel() for p in net.parameters())
    assert params == 664_832, params
    flops = 2 * (512 * 512 + 512 * 512 + 512 * 256)
    contexts = torch.randint(0, 256, (512, 16))
    targets = torch.randint(0, 256, (512,))
    out = {"torch": torch.__version__, "parameters": params}
    for threads in sorted({1, args.threads}):
        torch.set_num_threads(threads)
        with torch.inference_mode():
            per_second = rate(lambda: net(contexts), args.seconds)
        out[f"forward_batch512_threads{threads}_tokens_per_s"] = per_second * 512
        out[f"forward_batch512_threads{threads}_gflops"] = per_second * 512 * flops / 1e9
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
        batch, labels = contexts[:256], targets[:256]

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(batch), labels)
            loss.backward()
            optimizer.step()
        out[f"train_batch256_threads{threads}_tokens_per_s"] = rate(step, args.seconds) * 256
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
