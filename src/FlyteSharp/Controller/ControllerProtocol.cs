using System.Text.Json;

namespace FlyteSharp.Controller;

/// <summary>
/// The controller API both sides speak (HTTP/1.1 + JSON): a task running outside the driver (a container, a Pod) asks
/// the driver to run a child action. One endpoint, <c>POST /v1/actions/{parentActionId}/children</c>, bearer-token auth.
/// </summary>
internal static class ControllerProtocol
{
    /// <summary>Where the driver's socket is mounted inside a container.</summary>
    public const string ContainerSocketPath = "/run/flytesharp/controller.sock";

    /// <summary>Where the run's token file is mounted inside a container.</summary>
    public const string ContainerTokenPath = "/run/flytesharp/controller.token";

    /// <summary>The request path of a child call of <paramref name="parentActionId"/>.</summary>
    public static string ChildrenPath(string parentActionId) => $"/v1/actions/{Uri.EscapeDataString(parentActionId)}/children";

    /// <summary>Property names as they appear on the wire (snake_case, like task values).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,

        // Read by programs and by people with curl, never embedded in HTML: quotes and '<' stay as they are.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Error types of refusals by the controller itself (a failed child carries its own exception type).</summary>
    public static class ErrorTypes
    {
        public const string Unauthorized = "unauthorized";
        public const string NotFound = "not_found";
        public const string MethodNotAllowed = "method_not_allowed";
        public const string BadRequest = "bad_request";
        public const string Conflict = "conflict";
        public const string TooLarge = "payload_too_large";
        public const string LengthRequired = "length_required";
        public const string HeadersTooLarge = "headers_too_large";
        public const string Timeout = "request_timeout";
        public const string Busy = "busy";
        public const string Internal = "internal";
    }

    /// <summary>The <c>kind</c> of a child failure: which runtime raised it.</summary>
    public static class ErrorKinds
    {
        public const string Python = "python";
        public const string CSharp = "csharp";
    }
}
