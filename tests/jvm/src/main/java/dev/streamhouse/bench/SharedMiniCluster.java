package dev.streamhouse.bench;

import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.flink.api.dag.Pipeline;
import org.apache.flink.client.deployment.executors.PipelineExecutorUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;

/**
 * One Flink mini-cluster for the whole bench run, and the executor that submits every job of
 * the bench's table environments to it (Flink's own "local" executor would start and stop a
 * mini-cluster per job). The job manager, the task manager and the jobs run in this JVM; the
 * jobs' classes come from the bench's class path.
 */
final class SharedMiniCluster implements PipelineExecutorServiceLoader, PipelineExecutorFactory,
        PipelineExecutor, AutoCloseable {
    static final String TARGET = "streamhouse-shared-mini-cluster";

    private final MiniCluster cluster;

    SharedMiniCluster(int slots) throws Exception {
        Configuration conf = new Configuration();
        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .withRandomPorts() // tests run JVMs side by side
                .build());
        cluster.start();
    }

    /** The configuration entries an environment needs to submit its jobs here. */
    static void target(Configuration conf) {
        conf.set(DeploymentOptions.TARGET, TARGET);
        conf.set(DeploymentOptions.ATTACHED, true);
    }

    @Override
    public PipelineExecutorFactory getExecutorFactory(Configuration configuration) {
        return this;
    }

    @Override
    public Stream<String> getExecutorNames() {
        return Stream.of(TARGET);
    }

    @Override
    public String getName() {
        return TARGET;
    }

    @Override
    public boolean isCompatibleWith(Configuration configuration) {
        return TARGET.equals(configuration.get(DeploymentOptions.TARGET));
    }

    @Override
    public PipelineExecutor getExecutor(Configuration configuration) {
        return this;
    }

    @Override
    public CompletableFuture<JobClient> execute(
            Pipeline pipeline, Configuration configuration, ClassLoader userCodeClassloader)
            throws Exception {
        JobGraph job = PipelineExecutorUtils.getJobGraph(pipeline, configuration, userCodeClassloader);
        return cluster.submitJob(job).thenApply(submitted -> new MiniClusterJobClient(
                submitted.getJobID(), cluster, userCodeClassloader,
                MiniClusterJobClient.JobFinalizationBehavior.NOTHING));
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
