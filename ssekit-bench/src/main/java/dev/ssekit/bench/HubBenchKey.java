package dev.ssekit.bench;

/** Prints the benchmark hubs' publisher key, for scripts that start a hub process (bin/soak). */
public final class HubBenchKey {

    private HubBenchKey() {
    }

    public static void main(String[] args) {
        System.out.println(HubBench.KEY);
    }
}
