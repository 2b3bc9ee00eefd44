using FlyteSharp.Controller;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Controller;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Controller;

/// <summary>
/// A test harness acting as a C# parent that runs outside the driver: the root action of a real run registers itself
/// with the run's real controller server, and the harness body then calls tasks through a real client over the real
/// socket, with a <see cref="ControllerTaskCallContext"/> current, exactly as the worker in a container does.
/// </summary>
internal sealed class ContainerisedParent
{
    private ContainerisedParent(ActionScope scope, ControllerServer server, ControllerClient client, ControllerTaskCallContext context)
    {
        Scope = scope;
        Server = server;
        Client = client;
        Context = context;
    }

    /// <summary>The parent action in the driver.</summary>
    public ActionScope Scope { get; }

    /// <summary>The run's controller server.</summary>
    public ControllerServer Server { get; }

    /// <summary>A client over the real socket with the token read from the run's token file.</summary>
    public ControllerClient Client { get; }

    /// <summary>The context the worker makes current.</summary>
    public ControllerTaskCallContext Context { get; }

    /// <summary>Defines a root task on <paramref name="environment"/> whose body runs <paramref name="body"/> as a containerised parent.</summary>
    public static FlyteTask<string> Define(TaskEnvironment environment, Func<ContainerisedParent, Task<string>> body, string name = "containerised_parent") =>
        environment.Task(name, async () =>
        {
            var scope = ActionScope.Current!;
            var server = scope.Controller.ControllerServer;
            using var registration = server.Register(scope);
            using var client = ControllerClient.FromTokenFile(server.Address, server.TokenFile, ChildErrors.ToException);
            var context = new ControllerTaskCallContext(client, scope.RunName, scope.ActionId, scope.Attempt, scope.EnvironmentName, scope.EnvironmentVariables, scope.CancellationToken);
            var parent = new ContainerisedParent(scope, server, client, context);

            // A separate flow whose current context is the controller's, as in the worker: task calls go over the socket.
            return await Task.Run(() =>
            {
                TaskCalls.Current = context;
                return body(parent);
            });
        });
}
