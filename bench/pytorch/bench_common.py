"""Shared by the PyTorch benchmarks of the general policy's twin: the built-in suite's policy shape and one timing
helper (medians of wall-clock and process CPU seconds after `warmup` untimed runs)."""
import statistics
import time

# The built-in suite's shape (src/trainer/tasks/vocab.ts, the bundled encoder's 64 patches x 32 features).
SHAPE = {"questionVocabSize": 21, "responseVocabSize": 26, "eosToken": 2, "maxQuestionLength": 12, "maxResponseLength": 8,
         "patchCount": 64, "patchDim": 32}


def timed(run, repeats, warmup=1):
    """(median wall seconds, median CPU seconds) of `repeats` runs after `warmup` untimed ones."""
    for _ in range(warmup):
        run()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)
