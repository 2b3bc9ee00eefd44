FROM localhost/flytesharp-test/debian-dotnet:bookworm
USER root
ENV VIRTUAL_ENV=/opt/venv \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/root \
    PYTHONUNBUFFERED=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_CACHE_DIR=/root/.cache/uv
RUN python3 -m venv --without-pip /opt/venv
COPY .flytesharp/runner/flytesharp_runner.py /opt/flytesharp/flytesharp_runner.py
WORKDIR /root
# .NET project 'Tasks' (net10.0; install project: its NuGet packages' runtime assets, published on the host; its assemblies go to /opt/flytesharp/app in the next layer, so a code edit changes only that one)
RUN have="$(dotnet --list-runtimes 2>/dev/null | cut -d ' ' -f 1,2 | tr '\n' ' ')"; \
    case " $have" in *" Microsoft.NETCore.App 10."*) ;; *) echo "error: project 'Tasks' targets net10.0 and needs Microsoft.NETCore.App 10.x, but the base image has: ${have:-no .NET runtime (dotnet is not on PATH)}. fix: set [images] dotnet_base in flytesharp.toml (or FLYTESHARP_DOTNET_BASE_IMAGE) to a .NET 10.0 image, or use Image.FromDotnetBase(\"10.0\")" >&2; exit 1 ;; esac
COPY .flytesharp/layers/1-dotnet/packages/ /opt/flytesharp/packages/
# .NET assemblies of 'Tasks' (built on the host; every code edit changes this layer only)
COPY .flytesharp/layers/2-dotnet-app/ /opt/flytesharp/app/
