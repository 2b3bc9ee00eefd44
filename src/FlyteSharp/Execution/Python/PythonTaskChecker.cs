using FlyteSharp.Runner;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// Checks Python tasks before a run starts: each module must resolve to a file inside the code bundle and
/// define the function; the function's parameters are learned and compared with the declared C# types.
/// </summary>
internal static class PythonTaskChecker
{
    private static readonly string[] SkippedDirectories = [".venv", ".git", "node_modules", "__pycache__", "bin", "obj"];

    public static async Task CheckAsync(IPythonTaskExecutor executor, IReadOnlyCollection<TaskDefinition> tasks, string? rootDir, CancellationToken cancellationToken)
    {
        foreach (var group in tasks.Where(t => t.Kind == TaskKind.Python).GroupBy(t => t.Environment))
        {
            // One look-up per function; every declaration of it (the same function may be declared twice, e.g. with
            // different options) learns its parameters, or a run of the second one has nothing to bind inputs to.
            var byFunction = group.Distinct().GroupBy(t => t.Name).ToArray();
            var infos = await executor.DescribeAsync(group.Key, byFunction.Select(g => g.First().Python!).ToArray(), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < byFunction.Length; i++)
            {
                foreach (var task in byFunction[i])
                {
                    Apply(task, infos[i], rootDir);
                }
            }
        }
    }

    /// <summary>
    /// The run-start check: every Python task of the run's environments is described, but only
    /// <paramref name="rootTask"/>'s failure stops the run. The others' failures are returned (the caller warns about
    /// them when the run starts, and fails an action only when such a task is called), so one broken task does not
    /// block every run of every task in its environment.
    /// </summary>
    public static async Task<IReadOnlyDictionary<TaskDefinition, FlyteSharpException>> CheckForRunAsync(
        IPythonTaskExecutor executor, IReadOnlyCollection<TaskDefinition> tasks, string? rootDir, TaskDefinition rootTask, CancellationToken cancellationToken)
    {
        var deferred = new Dictionary<TaskDefinition, FlyteSharpException>();
        foreach (var group in tasks.Where(t => t.Kind == TaskKind.Python).GroupBy(t => t.Environment))
        {
            // As in CheckAsync: one look-up per function, and every declaration of it learns its parameters.
            var byFunction = group.Distinct().GroupBy(t => t.Name).ToArray();
            var infos = await executor.DescribeAsync(group.Key, byFunction.Select(g => g.First().Python!).ToArray(), cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < byFunction.Length; i++)
            {
                foreach (var task in byFunction[i])
                {
                    try
                    {
                        Apply(task, infos[i], rootDir);
                    }
                    catch (FlyteSharpException ex) when (task.Name != rootTask.Name)
                    {
                        deferred[task] = ex;
                    }
                }
            }
        }

        return deferred;
    }

    internal static void Apply(TaskDefinition task, PythonFunctionInfo info, string? rootDir)
    {
        var python = task.Python!;
        var expected = rootDir is null ? python.ModulePath : Path.Combine(rootDir, python.ModulePath);
        if (!info.Ok)
        {
            switch (info.ErrorType)
            {
                case "ModuleNotFoundError":
                case "ModuleOutsideBundle":
                    throw new FlyteSharpException(
                        $"Python task {python}: module '{python.Module}' is not in the code bundle ({info.ErrorMessage})",
                        expected, fix: RootDirHint(python, rootDir));
                case "FunctionNotFound":
                case "NotCallable":
                    throw new FlyteSharpException(
                        $"Python task {python}: {info.ErrorMessage}; the module defines: {(info.Defined.Count == 0 ? "no functions" : string.Join(", ", info.Defined))}",
                        expected, fix: $"define {python.Function} in {python.ModulePath}, or use one of the names above");
                default:
                    throw new FlyteSharpException($"Python task {python}: {info.ErrorType}: {info.ErrorMessage}", expected,
                        fix: "fix the module so that it imports cleanly with root_dir on sys.path");
            }
        }

        var parameters = info.Parameters.Where(p => p.Kind is "POSITIONAL_OR_KEYWORD" or "KEYWORD_ONLY").ToArray();
        var required = parameters.Where(p => !p.HasDefault).ToArray();
        if (info.Parameters.Any(p => p.Kind == "POSITIONAL_ONLY"))
        {
            throw new FlyteSharpException($"Python task {python} has positional-only parameters; inputs are passed by name",
                expected, fix: "remove the '/' from the function's signature");
        }

        // Parameters with defaults may be left out, so the declared arity may be anywhere between required and all.
        var names = parameters.Length == task.InputTypes.Count ? parameters : required.Length == task.InputTypes.Count ? required : null;
        if (names is null)
        {
            throw new FlyteSharpException(
                $"Python task {python} takes ({string.Join(", ", parameters.Select(Describe))}) but is declared with {task.InputTypes.Count} input(s) ({string.Join(", ", task.InputTypes.Select(TypeNames.Describe))})",
                expected, fix: "declare one generic input type per Python parameter, in the function's order");
        }

        task.LearnParameterNames(names.Select(p => p.Name).ToArray());
        for (var i = 0; i < names.Length; i++)
        {
            if (names[i].Annotation is { } annotation && !Compatible(annotation, task.InputTypes[i]))
            {
                throw new FlyteSharpException(
                    $"input '{names[i].Name}' of Python task {python} is annotated '{annotation}' in Python but declared as {TypeNames.Describe(task.InputTypes[i])} in C#",
                    expected, fix: "make the C# input type match the Python annotation (int ↔ int/long, float ↔ double, str ↔ string, list ↔ List/array, dict ↔ Dictionary/record)");
            }
        }
    }

    internal static bool Compatible(string annotation, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var head = annotation.Split('[', '|')[0].Trim();
        var isList = type.IsArray || (type != typeof(string) && type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            && !type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>)));
        return head switch
        {
            "int" => type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte),
            "float" => type == typeof(double) || type == typeof(float) || type == typeof(decimal) || type == typeof(int) || type == typeof(long),
            "str" => type == typeof(string),
            "bool" => type == typeof(bool),
            "list" or "List" or "tuple" or "Tuple" or "Sequence" => isList,
            "dict" or "Dict" or "Mapping" => !isList && !type.IsPrimitive && type != typeof(string),
            _ => true, // Any, Optional[...], user types: not checked
        };
    }

    private static string Describe(PythonParameterInfo p) => p.Annotation is null ? p.Name : $"{p.Name}: {p.Annotation}";

    private static string RootDirHint(PythonTaskReference python, string? rootDir)
    {
        const string rule = "root_dir must be the directory you would cd into before running python -c \"import " + "{0}\"";
        if (rootDir is null)
        {
            return "call Flyte.InitFromConfig(rootDir: …) (or set root_dir in flytesharp.toml)";
        }

        var full = Path.GetFullPath(rootDir);
        if (File.Exists(Path.Combine(full, python.ModulePath)) || File.Exists(Path.Combine(full, python.Module.Replace('.', '/'), "__init__.py")))
        {
            return $"{python.ModulePath} exists under root_dir but is not in the bundle: check .gitignore/.dockerignore/.flyteignore rules";
        }

        if (WorkspaceHint(python, full) is { } workspaceHint)
        {
            return workspaceHint;
        }

        for (var dir = Directory.GetParent(full); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, python.ModulePath)))
            {
                return $"root_dir is too deep: set it to {dir.FullName} (" + string.Format(rule, python.Module) + ")";
            }
        }

        if (Find(full, python.ModulePath, depth: 4) is { } found)
        {
            return $"root_dir is too shallow: the module is at {Path.Combine(found, python.ModulePath)}; set root_dir to {found} (" + string.Format(rule, python.Module) + ")";
        }

        return $"check the module name; {string.Format(rule, python.Module)} (root_dir is {full})";
    }

    /// <summary>
    /// For a module that lives in a uv workspace package: never advise narrowing root_dir to one member (that drops
    /// the root package and the other members); say to keep root_dir at the workspace root with the workspace's
    /// WithUvProject on the image, which puts every package's import root on sys.path.
    /// </summary>
    private static string? WorkspaceHint(PythonTaskReference python, string rootDir)
    {
        for (var dir = new DirectoryInfo(rootDir); dir is not null; dir = dir.Parent)
        {
            var pyproject = Path.Combine(dir.FullName, "pyproject.toml");
            if (!File.Exists(pyproject) || !File.ReadAllText(pyproject).Contains("[tool.uv.workspace]", StringComparison.Ordinal))
            {
                continue;
            }

            Projects.Uv.UvWorkspace workspace;
            try
            {
                workspace = Projects.Uv.UvWorkspace.Load(Projects.Uv.UvProject.Load(pyproject));
            }
            catch (FlyteSharpException)
            {
                return null;
            }

            var package = workspace.Packages.FirstOrDefault(p =>
                File.Exists(Path.Combine(p.ImportRoot, python.ModulePath)) || File.Exists(Path.Combine(p.ImportRoot, python.Module.Replace('.', '/'), "__init__.py")));
            if (package is null)
            {
                return null;
            }

            var use = $".WithUvProject(\"{pyproject}\")";
            return dir.FullName == rootDir
                ? $"the module is in workspace package '{package.Project.Name}' ({package.ImportRoot}), which is in the bundle but not on sys.path: add {use} to the environment's image, so FlyteSharp puts every workspace package's import root on sys.path (keep root_dir at the workspace root)"
                : $"the module is in workspace package '{package.Project.Name}' ({package.ImportRoot}): set root_dir to the workspace root {dir.FullName} (not one member's folder, which leaves the root package and the other members out) and keep {use} on the environment's image";
        }

        return null;
    }

    private static string? Find(string dir, string relative, int depth)
    {
        if (depth == 0)
        {
            return null;
        }

        IEnumerable<string> children;
        try
        {
            children = Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        foreach (var child in children)
        {
            if (SkippedDirectories.Contains(Path.GetFileName(child)))
            {
                continue;
            }

            if (File.Exists(Path.Combine(child, relative)))
            {
                return child;
            }

            if (Find(child, relative, depth - 1) is { } found)
            {
                return found;
            }
        }

        return null;
    }
}
