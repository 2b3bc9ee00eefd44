namespace FlyteSharp.Tasks;

/// <summary>Reads a C# task body's parameter names (lambdas keep the names they were written with).</summary>
internal static class DelegateParameters
{
    public static IReadOnlyList<string> Names(Delegate body, int count)
    {
        ArgumentNullException.ThrowIfNull(body);
        var parameters = body.Method.GetParameters();

        // Closed-over lambdas compile to instance methods, so the delegate's own parameters are the last `count`.
        return parameters.Skip(parameters.Length - count)
            .Select((p, i) => string.IsNullOrEmpty(p.Name) ? $"input{i + 1}" : p.Name!)
            .ToArray();
    }

    public static async Task<object?> Box<T>(Task<T> task) => await task.ConfigureAwait(false);
}
