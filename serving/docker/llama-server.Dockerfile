# llama-server for the DGX Spark (GB10, sm_121), built the way NVIDIA's Spark playbooks build it: CUDA 13 (sm_121
# kernels need CUDA >= 12.9), the GB10 architecture only, a pinned llama.cpp release. The published
# ghcr.io/ggml-org/llama.cpp:server-cuda image is the CUDA 12 build and cannot run here.
# compose.yaml builds it (serving/catalog.yaml engines.llama.cpp names the release); LLAMA_CPP_IMAGE overrides it.
ARG CUDA_VERSION=13.0.1
ARG UBUNTU_VERSION=24.04

FROM nvcr.io/nvidia/cuda:${CUDA_VERSION}-devel-ubuntu${UBUNTU_VERSION} AS build
ARG LLAMA_CPP_RELEASE=b10884
ARG CUDA_ARCHITECTURES=121a-real
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake git ca-certificates \
        libssl-dev libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
RUN git clone --depth 1 --branch "${LLAMA_CPP_RELEASE}" https://github.com/ggml-org/llama.cpp.git .
RUN cmake -B build -DGGML_CUDA=ON -DGGML_NATIVE=OFF -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHITECTURES}" \
        -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
    && cmake --build build --config Release --target llama-server -j"$(nproc)" \
    && mkdir -p /out/lib && cp build/bin/llama-server /out/ && find build -name '*.so*' -exec cp -P {} /out/lib/ \;

FROM nvcr.io/nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu${UBUNTU_VERSION}
ARG LLAMA_CPP_RELEASE=b10884
ARG CUDA_ARCHITECTURES=121a-real
LABEL org.opencontainers.image.title="llama-server for DGX Spark" \
      org.opencontainers.image.version="${LLAMA_CPP_RELEASE}" \
      ai.spark-agents.cuda-architectures="${CUDA_ARCHITECTURES}"
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/lib/ /usr/local/lib/
COPY --from=build /out/llama-server /usr/local/bin/llama-server
RUN ldconfig
ENTRYPOINT ["/usr/local/bin/llama-server"]
