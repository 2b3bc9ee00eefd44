using k8s.Models;

namespace FlyteSharp.Execution.Kubernetes;

/// <summary>Where a pod is, as far as running one action is concerned.</summary>
internal enum PodProgress
{
    /// <summary>Not started yet (scheduling, pulling the image).</summary>
    Waiting,

    /// <summary>The container started: its log can be followed.</summary>
    Started,

    /// <summary>The container ended (see <see cref="PodState.ExitCode"/>).</summary>
    Ended,

    /// <summary>It will never run the task (see <see cref="PodState.Failure"/>).</summary>
    Failed,
}

/// <summary>A pod's state read from its status: progress, exit code, termination reason, or a failure to report.</summary>
internal sealed record PodState(PodProgress Progress, int? ExitCode, string? Reason, PodFailure? Failure)
{
    /// <summary>Waiting reasons that mean the image cannot be pulled; the kubelet retries them forever.</summary>
    private static readonly HashSet<string> ImagePullReasons = ["ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"];

    /// <summary>Waiting reasons that mean the container cannot be created from the spec.</summary>
    private static readonly HashSet<string> CreateReasons = ["CreateContainerConfigError", "CreateContainerError", "RunContainerError"];

    /// <summary>Reads <paramref name="pod"/>'s status.</summary>
    public static PodState Of(V1Pod pod)
    {
        var status = pod.Status;
        var container = status?.ContainerStatuses?.FirstOrDefault(c => c.Name == KubernetesPodSpec.ContainerName);
        if (container?.State?.Terminated is { } terminated)
        {
            return new PodState(PodProgress.Ended, terminated.ExitCode, terminated.Reason, null);
        }

        if (container?.State?.Waiting is { Reason: { } waiting } w)
        {
            if (ImagePullReasons.Contains(waiting))
            {
                return new PodState(PodProgress.Failed, null, waiting, new PodFailure(PodFailureKind.ImagePull, waiting, w.Message));
            }

            if (CreateReasons.Contains(waiting))
            {
                return new PodState(PodProgress.Failed, null, waiting, new PodFailure(PodFailureKind.CreateContainer, waiting, w.Message));
            }
        }

        if (container?.State?.Running is not null)
        {
            return new PodState(PodProgress.Started, null, null, null);
        }

        if (status?.Phase is "Failed" or "Succeeded")
        {
            // Ended without a container status: evicted, deadline exceeded, node lost.
            return new PodState(PodProgress.Failed, null, status.Reason, new PodFailure(PodFailureKind.PodFailed, status.Reason ?? status.Phase, status.Message));
        }

        if (status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled") is { Status: "False", Reason: "Unschedulable" } unschedulable)
        {
            return new PodState(PodProgress.Failed, null, "Unschedulable", new PodFailure(PodFailureKind.Unschedulable, "Unschedulable", unschedulable.Message));
        }

        return new PodState(PodProgress.Waiting, null, null, null);
    }
}

/// <summary>Why a pod never ran its task.</summary>
internal enum PodFailureKind
{
    /// <summary>The node cannot pull the image.</summary>
    ImagePull,

    /// <summary>No node can take the pod (resources, selectors, taints).</summary>
    Unschedulable,

    /// <summary>The container could not be created.</summary>
    CreateContainer,

    /// <summary>The pod failed before its container ran (evicted, node lost).</summary>
    PodFailed,
}

/// <summary>A pod failure with Kubernetes' own reason and message.</summary>
internal sealed record PodFailure(PodFailureKind Kind, string Reason, string? Message);
